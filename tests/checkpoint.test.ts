/** model.save(dir) / HookedTransformer.load(dir) round trips, and bad checkpoints fail clearly. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { trainByteLevelBpe, writeBpeTokenizer } from "../src/tokenizers/bpeTraining";
import { CharTokenizer } from "../src/tokenizers/charTokenizer";
import { HfTokenizer } from "../src/tokenizers/hfTokenizer";
import { VARIANTS } from "./helpers/modelFixtures";

beforeAll(async () => {
  await ready();
});

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-ckpt-"));
}

describe("checkpoints", () => {
  it("save then load gives identical parameters, config, tokenizer and logits", async () => {
    const tokenizer = new CharTokenizer("abcdefghijklmnopqrstuvwxyz ", { bos: "^" });
    const model = await HookedTransformer.create({ ...VARIANTS["llama-like (RMS, rotary, gated silu, GQA)"], dVocab: tokenizer.vocabSize, seed: 3 }, { tokenizer });
    const dir = tempDir();
    await model.save(dir, { step: 100 });
    const loaded = await HookedTransformer.load(dir);
    expect(loaded.cfg).toEqual(model.cfg);
    expect(loaded.tokenizer?.encode("hello world")).toEqual(tokenizer.encode("hello world"));
    for (const [name, value] of Object.entries(model.stateDict())) {
      expect(Array.from(loaded.param(name).dataSync()), name).toEqual(Array.from(value.dataSync()));
    }
    const a = model.forward("the cat sat");
    const b = loaded.forward("the cat sat");
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).metadata).toEqual({ step: 100 });
    tf.dispose([a, b]);
    model.dispose();
    loaded.dispose();
  });

  it("a Hugging Face tokenizer travels with the checkpoint: the folder can move and the source can go", async () => {
    const source = tempDir();
    const bpe = trainByteLevelBpe(["the cat sat on the mat", "the dog sat on the log"], { vocabSize: 280 });
    writeBpeTokenizer(source, bpe);
    const tokenizer = HfTokenizer.fromDirectorySync(source);
    const model = await HookedTransformer.create({ nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 8, dVocab: tokenizer.vocabSize, nCtx: 16, seed: 1 }, { tokenizer });
    const saved = tempDir();
    await model.save(saved);
    expect(JSON.parse(fs.readFileSync(path.join(saved, "config.json"), "utf8")).tokenizer).toEqual({ type: "hf", dir: "." });
    expect(fs.existsSync(path.join(saved, "tokenizer.json"))).toBe(true);
    fs.rmSync(source, { recursive: true, force: true });
    const moved = path.join(tempDir(), "moved");
    fs.renameSync(saved, moved);
    const loaded = await HookedTransformer.load(moved);
    expect(loaded.tokenizer?.encode("the cat sat")).toEqual(tokenizer.encode("the cat sat"));
    // Saving it again (its tokenizer now lives in the folder) keeps working.
    await loaded.save(moved);
    const again = await HookedTransformer.load(moved);
    expect(again.toStrTokens("the dog")).toEqual(loaded.toStrTokens("the dog"));
    model.dispose();
    loaded.dispose();
    again.dispose();
  });

  it("missing, foreign, or mismatched checkpoints give clear errors", async () => {
    const empty = tempDir();
    await expect(HookedTransformer.load(empty)).rejects.toThrow(/not a mechlab checkpoint: there is no config.json/);
    fs.writeFileSync(path.join(empty, "config.json"), JSON.stringify({ n_embd: 4 }));
    await expect(HookedTransformer.load(empty)).rejects.toThrow(/fromPretrained/);
    fs.writeFileSync(path.join(empty, "config.json"), "{ not json");
    await expect(HookedTransformer.load(empty)).rejects.toThrow(/not valid JSON/);

    // A config that does not match the weights (dModel changed after saving).
    const model = await HookedTransformer.create({ ...VARIANTS["attention-only (LNPre)"], seed: 1 });
    const dir = tempDir();
    await model.save(dir);
    const file = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    file.config.nHeads = 2;
    file.config.nKeyValueHeads = 2;
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(file));
    const before = tf.memory().numTensors;
    await expect(HookedTransformer.load(dir)).rejects.toThrow(/do not match the config.*blocks\.0\.attn\.W_Q" has shape \[4, 16, 4\], the config implies \[2, 16, 4\]/);
    expect(tf.memory().numTensors).toBe(before);

    // A truncated weights file.
    await model.save(dir);
    const weights = path.join(dir, "model.safetensors");
    const bytes = fs.readFileSync(weights);
    fs.writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    await expect(HookedTransformer.load(dir)).rejects.toThrow(/truncated/);
    model.dispose();
  });
});
