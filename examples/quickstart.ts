/**
 * mechlab quick start: build a small model with the offline GPT-2 tokenizer, run it with hooks
 * and an activation cache, ablate a head, save and reload it. Run with `npm run example`.
 */
import * as os from "os";
import * as path from "path";
import { HookedTransformer, backendInfo, gpt2Tokenizer, ready, tf } from "mechlab";

async function main(): Promise<void> {
  await ready();
  console.log(backendInfo().summary);

  const model = await HookedTransformer.create(
    { nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dMlp: 256, dVocab: 50257, nCtx: 64, actFn: "gelu_new", seed: 0, modelName: "tiny-gpt2 (random)" },
    { tokenizer: gpt2Tokenizer() },
  );
  console.log(model.toString());

  const prompt = "When Mary and John went to the store, John gave a drink to";
  console.log("tokens:", JSON.stringify(model.toStrTokens(prompt)));

  // Run with a cache of every activation.
  const { output: logits, cache } = model.runWithCache(prompt);
  console.log(`logits [${logits.shape}], ${cache}`);
  console.log(`layer 1 attention pattern [${cache.get("pattern", 1).shape}]`);

  // Zero-ablate head 1.0 and see how the next-token log-prob of " Mary" changes.
  const mary = model.toSingleToken(" Mary");
  const logProb = (l: tf.Tensor3D) => tf.tidy(() => tf.logSoftmax(l.slice([0, l.shape[1] - 1, 0], [1, 1, -1]).reshape([-1])).gather(mary).dataSync()[0]);
  const ablated = model.runWithHooks(prompt, {
    fwdHooks: [["blocks.1.attn.hook_z", (z) => tf.tidy(() => tf.concat([tf.zerosLike(z.slice([0, 0, 0, 0], [-1, -1, 1, -1])), z.slice([0, 0, 1, 0], [-1, -1, -1, -1])], 2))]],
  });
  console.log(`log p(" Mary"): clean ${logProb(logits).toFixed(4)}, head 1.0 ablated ${logProb(ablated).toFixed(4)}`);

  // Save and load the project's checkpoint format.
  const dir = path.join(os.tmpdir(), "mechlab-quickstart");
  await model.save(dir);
  const reloaded = await HookedTransformer.load(dir);
  const again = reloaded.forward(prompt);
  console.log(`saved to ${dir}; reloaded logits identical: ${tf.tidy(() => tf.max(tf.abs(tf.sub(again, logits))).dataSync()[0]) === 0}`);

  tf.dispose([logits, ablated, again]);
  cache.dispose();
  model.dispose();
  reloaded.dispose();
  console.log(`tensors still allocated: ${tf.memory().numTensors}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
