/** Every model organism mechlab ships or trains, by name. */
import { inductionOrganism } from "./induction/inductionOrganism";
import type { OrganismRecipe } from "./organism";
import { textLmOrganism } from "./textLm/textLmOrganism";
import { toySuperpositionOrganism } from "./toy/toySuperpositionOrganism";
import { modaddOrganism } from "./modadd/modaddOrganism";
import { othelloOrganism } from "./othello/othelloOrganism";

export const ORGANISMS: Record<string, OrganismRecipe<unknown>> = {
  [inductionOrganism.name]: inductionOrganism as OrganismRecipe<unknown>,
  [textLmOrganism.name]: textLmOrganism as OrganismRecipe<unknown>,
  [toySuperpositionOrganism.name]: toySuperpositionOrganism as OrganismRecipe<unknown>,
  [modaddOrganism.name]: modaddOrganism as OrganismRecipe<unknown>,
  [othelloOrganism.name]: othelloOrganism as OrganismRecipe<unknown>,
};

export function organismNames(): string[] {
  return Object.keys(ORGANISMS);
}

export function getOrganism(name: string): OrganismRecipe<unknown> {
  const recipe = ORGANISMS[name];
  if (!recipe) throw new Error(`No organism "${name}". The organisms are: ${organismNames().join(", ")}.`);
  return recipe;
}
