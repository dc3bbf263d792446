/** Every model organism mechlab ships or trains, by name. */
import { inductionOrganism } from "./induction/inductionOrganism";
import { ioiOrganism } from "./ioi/ioiOrganism";
import { modaddOrganism } from "./modadd/modaddOrganism";
import type { OrganismRecipe } from "./organism";
import { othelloOrganism } from "./othello/othelloOrganism";
import { textLmOrganism } from "./textLm/textLmOrganism";
import { toySuperpositionOrganism } from "./toy/toySuperpositionOrganism";

/** From the toy model up to the largest. */
export const ORGANISMS: Record<string, OrganismRecipe<unknown>> = {
  [toySuperpositionOrganism.name]: toySuperpositionOrganism as OrganismRecipe<unknown>,
  [inductionOrganism.name]: inductionOrganism as OrganismRecipe<unknown>,
  [ioiOrganism.name]: ioiOrganism as OrganismRecipe<unknown>,
  [modaddOrganism.name]: modaddOrganism as OrganismRecipe<unknown>,
  [textLmOrganism.name]: textLmOrganism as OrganismRecipe<unknown>,
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
