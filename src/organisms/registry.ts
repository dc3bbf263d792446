/** Every model organism mechlab ships or trains, by name. */
import type { OrganismRecipe } from "./organism";
import { toySuperpositionOrganism } from "./toy/toySuperpositionOrganism";

export const ORGANISMS: Record<string, OrganismRecipe<unknown>> = {
  [toySuperpositionOrganism.name]: toySuperpositionOrganism as OrganismRecipe<unknown>,
};

export function organismNames(): string[] {
  return Object.keys(ORGANISMS);
}

export function getOrganism(name: string): OrganismRecipe<unknown> {
  const recipe = ORGANISMS[name];
  if (!recipe) throw new Error(`No organism "${name}". The organisms are: ${organismNames().join(", ")}.`);
  return recipe;
}
