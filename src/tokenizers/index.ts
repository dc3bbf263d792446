import { gpt2Tokenizer } from "./gpt2";
import type { Tokenizer } from "./tokenizer";

export { checkTokenId, type Tokenizer } from "./tokenizer";
export { Gpt2Tokenizer, gpt2Tokenizer, GPT2_END_OF_TEXT, GPT2_END_OF_TEXT_ID, GPT2_VOCAB_SIZE } from "./gpt2";
export { CharTokenizer, type CharTokenizerJSON, type CharTokenizerOptions } from "./charTokenizer";
export { VocabTokenizer, type VocabTokenizerJSON, type VocabTokenizerOptions } from "./vocabTokenizer";
export { HfTokenizer, type HfTokenizerJSON, type HfTokenizerOptions } from "./hfTokenizer";
export { tokenizerFromJSON, tokenizerToJSON, type TokenizerJSON } from "./fromJSON";

/** Named, pretrained tokenizers; the organisms' small tokenizers are built with their own vocabularies. */
const NAMED: Record<string, () => Tokenizer> = {
  gpt2: gpt2Tokenizer,
};

/** A pretrained tokenizer by name ("gpt2"). */
export function getTokenizer(name: string): Tokenizer {
  const make = Object.prototype.hasOwnProperty.call(NAMED, name) ? NAMED[name] : undefined;
  if (make === undefined) {
    throw new Error(`getTokenizer: unknown tokenizer ${JSON.stringify(name)}; known tokenizers: ${Object.keys(NAMED).join(", ")}`);
  }
  return make();
}
