/**
 * The token-colours widget: the kernel-side model and `tokenColors(...)`.
 *
 *   tokenColors(model.toStrTokens(text), { "neuron 3.17": acts, loss: perTokenLoss })
 */
import { prepareTokenColors, type TokenColorsData, type TokenColorsDataOptions, type TokenValues } from "./tokenColorsData";
import { MechlabWidget, type MechlabWidgetState } from "./mechlabWidget";

export const TOKEN_COLORS_VIEW = "TokenColorsView";

/** The prepared data (see tokenColorsData.ts) plus what the browser selects. */
export interface TokenColorsState extends MechlabWidgetState, TokenColorsData {
  /** The value set shown (a name in `setNames`). */
  selectedSet: string;
  /** The hovered token ([text, position]) in the browser, or null. */
  hoveredToken: [number, number] | null;
}

export interface TokenColorsOptions extends TokenColorsDataOptions {
  /** The value set shown first; default the first. */
  selectedSet?: string;
}

export class TokenColorsWidget extends MechlabWidget<TokenColorsState> {
  constructor(texts: string | string[] | string[][], values: TokenValues | Record<string, TokenValues>, options: TokenColorsOptions = {}) {
    const data = prepareTokenColors(texts, values, options);
    const selectedSet = options.selectedSet ?? data.setNames[0];
    if (!data.setNames.includes(selectedSet)) {
      throw new Error(`tokenColors: selectedSet ${JSON.stringify(selectedSet)} is not a value set (${data.setNames.join(", ")}).`);
    }
    super(TOKEN_COLORS_VIEW, { ...data, selectedSet, hoveredToken: null }, { noEcho: ["hoveredToken"] });
  }

  /** The values of one set, one array per text. */
  valuesOf(set: string = this.get("selectedSet")): number[][] {
    const s = this.get("setNames").indexOf(set);
    if (s < 0) throw new Error(`tokenColors: no value set ${JSON.stringify(set)} (${this.get("setNames").join(", ")}).`);
    const lengths = this.get("textLengths");
    const total = lengths.reduce((a, b) => a + b, 0);
    const values = this.get("values");
    let offset = s * total;
    return lengths.map((n) => {
      const row = Array.from(values.subarray(offset, offset + n));
      offset += n;
      return row;
    });
  }

  /** The hovered token (text, position, string and value in the selected set), or null. */
  get hovered(): { text: number; position: number; token: string; value: number } | null {
    const hovered = this.get("hoveredToken");
    if (hovered === null) return null;
    const [text, position] = hovered;
    return { text, position, token: this.get("tokens")[text]?.[position] ?? "", value: this.valuesOf()[text]?.[position] ?? NaN };
  }

  protected override textFallback(): string {
    const lengths = this.get("textLengths");
    return `TokenColors(${lengths.length} text(s), ${lengths.reduce((a, b) => a + b, 0)} tokens, sets: ${this.get("setNames").join(", ")})`;
  }
}

/**
 * Per-token values as coloured tokens: `texts` are token strings (string[] / string[][]), or
 * text(s) with `options.model`; `values` one set ([pos] or [text, pos]) or named sets.
 */
export function tokenColors(
  texts: string | string[] | string[][],
  values: TokenValues | Record<string, TokenValues>,
  options: TokenColorsOptions = {},
): TokenColorsWidget {
  return new TokenColorsWidget(texts, values, options);
}
