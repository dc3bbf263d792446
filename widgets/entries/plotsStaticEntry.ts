/**
 * The chart static bundle (IIFE): the static bundle's `mechlabWidgets` with the chart views
 * registered as well. Chart widgets inline this one; their html loads it unless the page's
 * `mechlabWidgets` already has the view.
 */
import "./staticEntry";
import "../views/plotViews";
