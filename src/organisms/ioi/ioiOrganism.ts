/**
 * ioi-toy: a small transformer (3 attention-only layers) trained on indirect-object
 * identification prompts (ioiDataset.ts) mixed with filler sentences, for circuit work
 * (activation / path patching, name movers, S-inhibition) when GPT-2 small is not at hand.
 *
 * Attention-only with shortformer positions (added to queries' and keys' input only, as in
 * induction-2l): the residual stream carries token identities, so copying a name (name movers)
 * and suppressing the repeated one are plain OV / QK circuits. A 2-layer model with MLPs and
 * standard positions stayed at chance (IO and S equally likely) for 2000+ steps with the same data.
 *
 * Tokens are words: a VocabTokenizer over the templates' words, places, objects, punctuation,
 * the filler's words and 300 first names from the @stdlib lists (those that are also one GPT-2
 * token, so the same names make GPT-2 prompts). The generator holds out 5 of the 20 templates,
 * 20% of the names, and 20% of the pairs of the other names: training prompts use only training
 * templates, training names, and pairs of them that are not held out.
 *
 * What "held-out names" means here: the capability test uses held-out templates × held-out name
 * PAIRS (both names were IO or S in training prompts, never together). Names that never occur in
 * an IOI prompt (only in filler, including sentences that repeat a name so it can be copied) are
 * measured too (unseenNames*) and stay at chance: with word embeddings, the name movers' copying
 * is learnt per name from IOI answers, and filler does not transfer it.
 *
 * Filler text is generated from the vocabulary rather than taken from State of the Union
 * speeches: with a word vocabulary of ~500 words almost no speech sentence is fully covered, and
 * generated sentences let every word of the held-out templates and every held-out name occur in
 * training, in other contexts (a name is a single mention, or repeated so it can be copied), so
 * their embeddings are trained while no held-out template or name is ever in an IOI prompt.
 *
 * Training sequences (nCtx 32): BOS, then with probability 3/4 one IOI prompt with its answer
 * and " .", then filler sentences up to the context length. The loss is the next-token loss over
 * all tokens plus the loss at the answer positions (so the IOI answer is not drowned out).
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../../backend";
import { HookedTransformer } from "../../model/hookedTransformer";
import type { ConfigInput } from "../../model/config";
import { gpt2Tokenizer } from "../../tokenizers/gpt2";
import { VocabTokenizer } from "../../tokenizers/vocabTokenizer";
import { SeededRandom } from "../../train/seededRandom";
import { train } from "../../train/train";
import type { OrganismRecipe } from "../organism";
import { shipCheckpoints } from "../shipCheckpoints";
import { IOI_OBJECTS, IOI_PLACES, IOI_TEMPLATES, IoiGenerator, ioiDataset, stdlibFirstNames, type IoiNameSplit, type IoiSplit } from "./ioiDataset";

const CONTEXT = 32;
const NAME_COUNT = 300;

/** Filler sentences: [A] and [B] are names, [PLACE] and [OBJECT] from their lists. */
export const IOI_FILLER_PATTERNS: readonly string[] = [
  "[A] went to the [PLACE] .",
  "Yesterday [A] visited the [PLACE] .",
  "Afterwards [A] brought a [OBJECT] to the [PLACE] .",
  "After lunch [A] showed the [OBJECT] to everyone .",
  "When [A] got a [OBJECT] , everyone decided it was good .",
  "[A] had a long day at the [PLACE] .",
  "The [OBJECT] at the [PLACE] was new .",
  "[A] and [B] were friends .",
  "[A] liked the [OBJECT] very much .",
  "At the [PLACE] , [A] found a [OBJECT] .",
  "[A] wanted to give it away .",
  "Then , [A] was thinking about the [OBJECT] .",
  "Once [A] arrived , everyone had a lot of fun .",
  "While [A] was working , [B] was commuting to the [PLACE] .",
  "[A] passed the [OBJECT] and handed it back .",
  "Friends of [A] said the [PLACE] was great .",
  "[A] had an argument about the [OBJECT] .",
  "This is [A] , and yes , it is [A] .",
  "The winner was [A] , so everyone cheered for [A] .",
  "Later [A] said the [OBJECT] was gone .",
];

/** The model config without dVocab (the tokenizer's vocabulary size). */
export const IOI_CONFIG: Omit<ConfigInput, "dVocab"> = {
  modelName: "ioi-toy",
  nLayers: 3,
  dModel: 128,
  nHeads: 4,
  dHead: 32,
  attnOnly: true,
  nCtx: CONTEXT,
  normalizationType: "LN",
  positionalEmbeddingType: "shortformer",
  defaultPrependBos: true,
};

const TRAINING = {
  batchSize: 32,
  lr: { lr: 3e-3, warmupSteps: 100, shape: "cosine" as const, minLr: 3e-4 },
  weightDecay: 0.05,
  ioiFraction: 1,
  answerLossWeight: 4,
  /** Shipped checkpoints besides the final model. */
  shippedCheckpoints: [] as number[],
  checkpointEvery: 500,
};

const EVAL = { n: 200, seed: 1234 };

/** The organism's names: first names that are one GPT-2 token, NAME_COUNT of them chosen with a fixed seed, sorted. */
export function ioiToyNames(): string[] {
  const gpt2 = gpt2Tokenizer();
  const single = stdlibFirstNames().filter((n) => n.length >= 3 && gpt2.tokenId(` ${n}`) !== undefined);
  const random = new SeededRandom(7);
  for (let i = single.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [single[i], single[j]] = [single[j], single[i]];
  }
  return single.slice(0, NAME_COUNT).sort();
}

/** Words of a template or filler pattern with punctuation spaced and slots removed. */
function patternWords(pattern: string): string[] {
  return pattern
    .replace(/([,.])/g, " $1")
    .split(" ")
    .filter((w) => w.length > 0 && !/^\[[A-Z0-9]+\]$/.test(w));
}

/** The word-level tokenizer: template and filler words, places, objects, names; BOS "<s>". */
export function ioiToyTokenizer(): VocabTokenizer {
  const words = new Set<string>();
  for (const p of [...IOI_TEMPLATES, ...IOI_FILLER_PATTERNS]) for (const w of patternWords(p)) words.add(w);
  for (const w of [...IOI_PLACES, ...IOI_OBJECTS]) words.add(w);
  const names = ioiToyNames().filter((n) => !words.has(n));
  return new VocabTokenizer([...[...words].sort(), ...names], { bos: "<s>" });
}

/**
 * The IOI generator for the organism's tokenizer: 20% of the names held out of IOI prompts (they
 * occur in filler only), and 20% of the pairs of the other names never used together as IO and S
 * in training prompts.
 */
export function ioiToyGenerator(tokenizer: VocabTokenizer = ioiToyTokenizer()): IoiGenerator {
  const vocab = new Set(tokenizer.words);
  return new IoiGenerator(tokenizer, { names: ioiToyNames().filter((n) => vocab.has(n)), heldOutNameFraction: 0.2, heldOutPairFraction: 0.2, splitSeed: 0 });
}

/** One filler sentence's token ids (names from all names: held-out names occur here only). */
export function fillerSentence(generator: IoiGenerator, random: SeededRandom): number[] {
  const names = generator.nameList("all");
  const pattern = IOI_FILLER_PATTERNS[random.int(IOI_FILLER_PATTERNS.length)];
  const a = names[random.int(names.length)];
  let b = names[random.int(names.length)];
  while (b === a) b = names[random.int(names.length)];
  const text = pattern
    .replace(/\[A\]/g, a)
    .replace(/\[B\]/g, b)
    .replace(/\[PLACE\]/g, generator.places[random.int(generator.places.length)])
    .replace(/\[OBJECT\]/g, generator.objects[random.int(generator.objects.length)]);
  return generator.tokenizer.encode(text);
}

/**
 * One training sequence of CONTEXT tokens and the index (into the CONTEXT - 1 predictions) of
 * the IOI answer's prediction, or -1 when the sequence is filler only.
 */
export function ioiTrainingSequence(generator: IoiGenerator, random: SeededRandom): { tokens: number[]; answerAt: number } {
  const bos = generator.tokenizer.bosTokenId!;
  let tokens: number[] = [bos];
  let answerAt = -1;
  if (random.next() < TRAINING.ioiFraction) {
    const prompt = generator.sample(random, { templates: "train", names: "train" });
    const period = generator.tokenizer.tokenId(".")!;
    tokens = [...prompt.tokens, prompt.ioTokenId, period];
    answerAt = prompt.positions.end; // prediction at END is of token END + 1, the answer
  }
  while (tokens.length < CONTEXT) tokens.push(...fillerSentence(generator, random));
  return { tokens: tokens.slice(0, CONTEXT), answerAt };
}

/** Logit difference IO − S at END and IO > S accuracy, over one split's prompts. */
export function ioiLogitDiff(model: HookedTransformer, generator: IoiGenerator, templates: IoiSplit, names: IoiNameSplit, n = EVAL.n, seed = EVAL.seed): { logitDiff: number; accuracy: number } {
  const data = ioiDataset(generator, { n, seed, templates, names });
  const len = data.tokens[0].length;
  const diffs = tf.tidy(() => {
    const logits = model.forward(tf.tensor2d(data.tokens, [n, len], "int32"), { returnType: "logits" }) as tf.Tensor3D; // [n, len, vocab]
    const rows = tf.tensor1d(data.positions.end.map((end, i) => i * len + end), "int32");
    const atEnd = tf.gather(logits.reshape([n * len, -1]), rows) as tf.Tensor2D; // [n, vocab]
    const index = (ids: number[]) => tf.tensor1d(ids.map((id, i) => i * atEnd.shape[1] + id), "int32");
    const flat = atEnd.reshape([-1]);
    return tf.sub(tf.gather(flat, index(data.ioTokenIds)), tf.gather(flat, index(data.sTokenIds))).arraySync() as number[]; // [n]
  });
  return { logitDiff: diffs.reduce((a, b) => a + b, 0) / n, accuracy: diffs.filter((d) => d > 0).length / n };
}

/** The organism's metrics: logit difference and accuracy on each template split × name split. */
export function ioiMetrics(model: HookedTransformer, generator = ioiToyGenerator(model.tokenizer as VocabTokenizer)): Record<string, number> {
  const heldOut = ioiLogitDiff(model, generator, "heldOut", "heldOutPairs");
  const heldOutTemplates = ioiLogitDiff(model, generator, "heldOut", "train");
  const heldOutPairs = ioiLogitDiff(model, generator, "train", "heldOutPairs");
  const unseenNames = ioiLogitDiff(model, generator, "heldOut", "heldOut");
  const trained = ioiLogitDiff(model, generator, "train", "train");
  return {
    heldOutLogitDiff: heldOut.logitDiff,
    heldOutAccuracy: heldOut.accuracy,
    heldOutTemplatesLogitDiff: heldOutTemplates.logitDiff,
    heldOutTemplatesAccuracy: heldOutTemplates.accuracy,
    heldOutPairsLogitDiff: heldOutPairs.logitDiff,
    heldOutPairsAccuracy: heldOutPairs.accuracy,
    unseenNamesLogitDiff: unseenNames.logitDiff,
    unseenNamesAccuracy: unseenNames.accuracy,
    trainLogitDiff: trained.logitDiff,
    trainAccuracy: trained.accuracy,
  };
}

export const ioiOrganism: OrganismRecipe<HookedTransformer> = {
  name: "ioi-toy",
  summary: "3-layer attention-only transformer on IOI prompts (ABBA/BABA) mixed with filler: names the indirect object on held-out templates and name pairs",
  defaultSteps: 3000,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const tokenizer = ioiToyTokenizer();
    const generator = ioiToyGenerator(tokenizer);
    const model = await HookedTransformer.create({ ...IOI_CONFIG, dVocab: tokenizer.vocabSize, seed }, { tokenizer });
    const runDir = path.join(outDir, ".run");
    try {
      const result = await train({
        model,
        batch: (_step, random) => {
          const seqs = Array.from({ length: TRAINING.batchSize }, () => ioiTrainingSequence(generator, random));
          // Weight of each prediction [batch, CONTEXT - 1]: 1 at the IOI answer, else 0.
          const answerMask = seqs.map((s) => Array.from({ length: CONTEXT - 1 }, (_, p) => (p === s.answerAt ? 1 : 0)));
          return {
            tokens: tf.tensor2d(seqs.map((s) => s.tokens), [TRAINING.batchSize, CONTEXT], "int32"),
            answerMask: tf.tensor2d(answerMask, [TRAINING.batchSize, CONTEXT - 1], "float32"),
            answers: Math.max(1, seqs.filter((s) => s.answerAt >= 0).length),
          };
        },
        loss: ({ tokens, answerMask, answers }) =>
          tf.tidy(() => {
            const perToken = model.forward(tokens, { returnType: "loss", lossPerToken: true }) as tf.Tensor2D; // [batch, CONTEXT - 1]
            const answerLoss = perToken.mul(answerMask).sum().div(answers);
            return perToken.mean().add(answerLoss.mul(TRAINING.answerLossWeight)) as tf.Scalar;
          }),
        steps,
        lr: { ...TRAINING.lr, warmupSteps: Math.min(TRAINING.lr.warmupSteps, Math.floor(steps / 2)), totalSteps: steps },
        optimizer: { weightDecay: TRAINING.weightDecay },
        seed,
        evaluate: () => {
          const held = ioiLogitDiff(model, generator, "heldOut", "heldOutPairs", 64);
          const trained = ioiLogitDiff(model, generator, "train", "train", 64);
          return { heldOutLogitDiff: held.logitDiff, heldOutAccuracy: held.accuracy, trainLogitDiff: trained.logitDiff };
        },
        evalEvery: 100,
        checkpointDir: runDir,
        checkpointEvery: Math.min(TRAINING.checkpointEvery, steps),
        resume: true,
        progress: progress ?? "auto",
        title: "ioi-toy",
        signal,
        metadata: { organism: "ioi-toy" },
      });
      await model.save(outDir, { organism: "ioi-toy", step: result.steps, seed });
      const checkpoints = shipCheckpoints(runDir, outDir, undefined, { keep: (step) => TRAINING.shippedCheckpoints.includes(step) });
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics: ioiMetrics(model, generator),
        checkpoints,
        history: { training: result.history, evals: result.evals },
        settings: {
          config: { ...IOI_CONFIG, dVocab: tokenizer.vocabSize },
          training: { ...TRAINING, steps },
          data:
            `IOI prompts from ${generator.trainTemplates.length} of ${generator.templates.length} templates and ${generator.trainNames.length} of ` +
            `${generator.trainNames.length + generator.heldOutNames.length} names (ABBA/BABA), answer then " .", then generated filler sentences ` +
            `(all names) to ${CONTEXT} tokens; ${TRAINING.ioiFraction * 100}% of sequences start with a prompt`,
          evaluation: `${EVAL.n} prompts per split (seed ${EVAL.seed}); held-out = held-out templates × held-out name pairs; unseen names = held-out templates × names never in a training prompt`,
        },
      };
    } finally {
      model.dispose();
    }
  },

  load: (dir) => HookedTransformer.load(dir),

  async evaluate(model) {
    return ioiMetrics(model);
  },
};
