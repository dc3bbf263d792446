/** Toy models of superposition: the model, its training and the geometry of its features. */
export { ToySuperpositionModel, resolveToyConfig, type ToyModelConfig, type ResolvedToyConfig } from "./toyModel";
export { trainToyModel, type TrainToyOptions } from "./trainToyModel";
export { superpositionGeometry, geometryOf, representedFeatures, type InstanceGeometry } from "./superpositionAnalysis";
