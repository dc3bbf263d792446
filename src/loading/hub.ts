/**
 * Downloading model files from the Hugging Face hub into a local cache.
 *
 * Files come from `{endpoint}/{repo}/resolve/{revision}/{file}` (endpoint https://huggingface.co
 * unless HF_ENDPOINT says otherwise) and are streamed to
 * `{cacheDir}/{owner}--{name}/{revision}/{file}`, where cacheDir is the `cacheDir` option, else
 * MECHLAB_CACHE, else ~/.cache/mechlab/hub. Each file is written to a temporary name and renamed
 * into place only once complete (and, for safetensors, once its header checks out), so a broken
 * download never looks like a cached file. When every needed file is cached no request is made,
 * so a cached branch ("main") is not refreshed: delete its cache folder, or pin a commit as the
 * revision, to get newer files.
 *
 * The tokenizer files (tokenizer.json, tokenizer_config.json, special_tokens_map.json) are
 * optional: ensureHubTokenizerFiles fetches those the hub has, remembers the absent ones in the
 * cache, and never fails the model's download.
 *
 * A token (the `token` option, else HF_TOKEN, else HUGGING_FACE_HUB_TOKEN) is sent as a bearer
 * token, for gated and private repositories. HF_HUB_OFFLINE=1 (or `offline: true`) forbids
 * network access.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readSafetensorsHeader } from "./safetensors";
import { type DownloadProgress, type ProgressCallback, terminalProgress } from "./progress";

/** The subset of `fetch` the downloader uses; injectable for tests. */
export type FetchLike = (url: string, init?: { headers?: Record<string, string>; redirect?: "follow" }) => Promise<Response>;

export interface HubOptions {
  /** Cache root; default MECHLAB_CACHE, else ~/.cache/mechlab/hub. */
  cacheDir?: string;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Access token; default HF_TOKEN (or HUGGING_FACE_HUB_TOKEN). */
  token?: string;
  /** Hub address; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Never touch the network (also HF_HUB_OFFLINE=1): use the cache or fail. */
  offline?: boolean;
  /** Called with download progress. When absent, a progress bar is drawn on stderr. */
  onProgress?: ProgressCallback;
  /** The fetch function to use (default: the global fetch). */
  fetchImpl?: FetchLike;
}

/**
 * Short names for hub models whose architecture mechlab converts (GPT2LMHeadModel,
 * GPTNeoXForCausalLM, LlamaForCausalLM). Any other "owner/name" repository can be given directly.
 */
export const MODEL_ALIASES: Readonly<Record<string, string>> = {
  gpt2: "openai-community/gpt2",
  "gpt2-small": "openai-community/gpt2",
  "gpt2-medium": "openai-community/gpt2-medium",
  "gpt2-large": "openai-community/gpt2-large",
  "gpt2-xl": "openai-community/gpt2-xl",
  distilgpt2: "distilbert/distilgpt2",
  "pythia-14m": "EleutherAI/pythia-14m",
  "pythia-70m": "EleutherAI/pythia-70m",
  "pythia-160m": "EleutherAI/pythia-160m",
  "pythia-410m": "EleutherAI/pythia-410m",
  "smollm2-135m": "HuggingFaceTB/SmolLM2-135M",
  "smollm2-360m": "HuggingFaceTB/SmolLM2-360M",
  // 1.1B parameters are 4.4 GB in float32: beyond the wasm backend's 4 GiB heap, so this one
  // needs the native backend (@tensorflow/tfjs-node).
  tinyllama: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
};

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The hub repository for an alias or an "owner/name" id; throws listing the aliases otherwise. */
export function resolveRepoId(name: string): string {
  const alias = Object.prototype.hasOwnProperty.call(MODEL_ALIASES, name.toLowerCase()) ? MODEL_ALIASES[name.toLowerCase()] : undefined;
  if (alias !== undefined) return alias;
  if (REPO_ID.test(name) && !name.includes("..")) return name;
  throw new Error(
    `"${name}" is neither a local directory, a known model alias nor a hub repository id ("owner/name"). ` +
      `Aliases: ${Object.keys(MODEL_ALIASES).join(", ")}.`,
  );
}

/** The cache root in use: MECHLAB_CACHE, else ~/.cache/mechlab/hub. */
export function defaultCacheDir(): string {
  const fromEnv = process.env.MECHLAB_CACHE;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return path.resolve(fromEnv);
  return path.join(os.homedir(), ".cache", "mechlab", "hub");
}

/** Where one revision of a repository is cached. */
export function repoCacheDir(repoId: string, revision = "main", cacheDir = defaultCacheDir()): string {
  // encodeURIComponent keeps revisions like "refs/pr/3" to one safe path segment.
  return path.join(cacheDir, repoId.replace("/", "--"), encodeURIComponent(revision));
}

/** An HTTP error answer from the hub. */
export class HubHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
  ) {
    super(message);
    this.name = "HubHttpError";
  }
}

/** The hub could not be reached at all (no answer). */
export class HubUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HubUnreachableError";
  }
}

interface Context {
  repoId: string;
  revision: string;
  endpoint: string;
  cacheRoot: string;
  dir: string;
  headers: Record<string, string>;
  fetchImpl: FetchLike;
  onProgress: ProgressCallback;
}

function fileUrl(ctx: Context, file: string): string {
  const repo = ctx.repoId.split("/").map(encodeURIComponent).join("/");
  const name = file.split("/").map(encodeURIComponent).join("/");
  return `${ctx.endpoint}/${repo}/resolve/${encodeURIComponent(ctx.revision)}/${name}`;
}

function causeText(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(error)}${cause ? ` (${cause})` : ""}`;
}

function unreachable(ctx: Context, file: string, error: unknown): HubUnreachableError {
  return new HubUnreachableError(
    `Could not reach the Hugging Face hub (${ctx.endpoint}) to download "${file}" of ${ctx.repoId}: ${causeText(error)}. ` +
      `No complete cached copy was found in ${ctx.dir} (cache root ${ctx.cacheRoot}; set MECHLAB_CACHE or the cacheDir option to use another). ` +
      `Without the network, pass a local directory in Hugging Face layout (config.json + model.safetensors) instead of a hub name.`,
  );
}

function httpError(ctx: Context, file: string, url: string, status: number): HubHttpError {
  const where = `${ctx.repoId} (revision "${ctx.revision}")`;
  if (status === 401 || status === 403) {
    return new HubHttpError(
      `The hub refused "${file}" of ${where} with HTTP ${status}: the repository may not exist, be private, or be gated ` +
        `(accept its terms on the hub and set HF_TOKEN to an access token).`,
      status,
      url,
    );
  }
  if (status === 404) return new HubHttpError(`The hub has no "${file}" in ${where} (HTTP 404).`, status, url);
  return new HubHttpError(`The hub answered HTTP ${status} for "${file}" of ${where} (${url}).`, status, url);
}

/** Streams one file to a temp name next to `dest`, checks it, then renames it into place. */
async function downloadTo(ctx: Context, file: string, dest: string): Promise<void> {
  const url = fileUrl(ctx, file);
  let response: Response;
  try {
    response = await ctx.fetchImpl(url, { headers: ctx.headers, redirect: "follow" });
  } catch (error) {
    throw unreachable(ctx, file, error);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw httpError(ctx, file, url, response.status);
  }
  const lengthHeader = response.headers.get("content-length");
  const encoding = response.headers.get("content-encoding");
  // With a content encoding, Content-Length counts compressed bytes, not what fetch hands over.
  const total = lengthHeader !== null && (encoding === null || encoding === "identity") ? Number(lengthHeader) : undefined;

  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const temp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.incomplete`;
  const handle = await fs.promises.open(temp, "w");
  const started = Date.now();
  let loaded = 0;
  const report = (done: boolean) => {
    const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
    const p: DownloadProgress = { file, loaded, total, bytesPerSecond: loaded / seconds, done };
    ctx.onProgress(p);
  };
  let closed = false;
  try {
    report(false);
    if (response.body === null) throw new Error("the response has no body");
    const reader = response.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new HubUnreachableError(
          `The download of "${file}" from ${ctx.repoId} broke off after ${loaded} bytes: ${causeText(error)}. Nothing was cached; try again.`,
        );
      }
      if (chunk.done) break;
      let offset = 0;
      while (offset < chunk.value.byteLength) {
        const { bytesWritten } = await handle.write(chunk.value, offset, chunk.value.byteLength - offset);
        offset += bytesWritten;
      }
      loaded += chunk.value.byteLength;
      report(false);
    }
    if (total !== undefined && Number.isFinite(total) && loaded !== total) {
      throw new Error(`The download of "${file}" from ${ctx.repoId} is incomplete: got ${loaded} of ${total} bytes. Nothing was cached; try again.`);
    }
    await handle.close();
    closed = true;
    if (file.endsWith(".safetensors")) {
      try {
        await readSafetensorsHeader(temp);
      } catch (error) {
        throw new Error(`The downloaded "${file}" from ${ctx.repoId} is not a valid safetensors file (${(error as Error).message}). Nothing was cached.`);
      }
    }
    await fs.promises.rename(temp, dest);
    report(true);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

function exists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Shard file names listed by a model.safetensors.index.json (in order of first appearance). */
export function shardsOfIndex(indexPath: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(indexPath, "utf8"));
  } catch (error) {
    throw new Error(`${indexPath} is not valid JSON: ${(error as Error).message}`);
  }
  const map = (parsed as { weight_map?: unknown })?.weight_map;
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new Error(`${indexPath} has no "weight_map" object (tensor name → shard file).`);
  }
  const shards: string[] = [];
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string" || shard === "" || shard.includes("..") || path.isAbsolute(shard)) {
      throw new Error(`${indexPath}: weight_map entry for "${name}" is not a shard file name: ${JSON.stringify(shard)}.`);
    }
    if (!shards.includes(shard)) shards.push(shard);
  }
  return shards;
}

/** The cached files when the cache holds a complete snapshot (config + weights), else undefined. */
function completeCachedSnapshot(dir: string): string[] | undefined {
  if (!exists(path.join(dir, "config.json"))) return undefined;
  if (exists(path.join(dir, "model.safetensors"))) return ["config.json", "model.safetensors"];
  const index = path.join(dir, "model.safetensors.index.json");
  if (!exists(index)) return undefined;
  let shards: string[];
  try {
    shards = shardsOfIndex(index);
  } catch {
    return undefined;
  }
  if (!shards.every((s) => exists(path.join(dir, s)))) return undefined;
  return ["config.json", "model.safetensors.index.json", ...shards];
}

/** The download context for one repository revision, and whether the network is forbidden. */
function hubContext(repoId: string, revision: string, cacheRoot: string, dir: string, options: HubOptions): { ctx: Context; offline: boolean } {
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const offlineEnv = process.env.HF_HUB_OFFLINE;
  const offline = options.offline ?? (offlineEnv !== undefined && offlineEnv !== "" && offlineEnv !== "0" && offlineEnv.toLowerCase() !== "false");
  const token = options.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN;
  const headers: Record<string, string> = { "user-agent": "mechlab" };
  if (token) headers.authorization = `Bearer ${token}`;
  const fetchImpl: FetchLike | undefined = options.fetchImpl ?? (typeof fetch === "function" ? (fetch as FetchLike) : undefined);
  const ctx: Context = {
    repoId,
    revision,
    endpoint,
    cacheRoot,
    dir,
    headers,
    fetchImpl: fetchImpl ?? (() => Promise.reject(new Error("this Node.js has no global fetch (Node 18 or newer is needed)"))),
    onProgress: options.onProgress ?? terminalProgress(),
  };
  return { ctx, offline };
}

export interface HubSnapshot {
  /** Local directory holding config.json and the safetensors weights. */
  dir: string;
  repoId: string;
  revision: string;
  /** True when everything came from the cache (no request was made). */
  fromCache: boolean;
  /** Files fetched by this call. */
  downloaded: string[];
}

/**
 * Makes sure config.json and the safetensors weights (model.safetensors, or the index and every
 * shard) of a hub repository are in the cache, downloading what is missing, and returns the
 * directory. Makes no request when the cache is complete.
 */
export async function ensureHubSnapshot(repoOrAlias: string, options: HubOptions = {}): Promise<HubSnapshot> {
  const repoId = resolveRepoId(repoOrAlias);
  const revision = options.revision ?? "main";
  const cacheRoot = options.cacheDir !== undefined ? path.resolve(options.cacheDir) : defaultCacheDir();
  const dir = repoCacheDir(repoId, revision, cacheRoot);
  const cached = completeCachedSnapshot(dir);
  if (cached !== undefined) return { dir, repoId, revision, fromCache: true, downloaded: [] };

  const { ctx, offline } = hubContext(repoId, revision, cacheRoot, dir, options);
  if (offline) {
    throw new HubUnreachableError(
      `Offline mode (${options.offline ? "offline: true" : "HF_HUB_OFFLINE"}) forbids downloading ${repoId}, and no complete cached copy was found in ${dir} ` +
        `(cache root ${cacheRoot}). Pass a local directory in Hugging Face layout (config.json + model.safetensors) instead of a hub name.`,
    );
  }

  const downloaded: string[] = [];
  const fetchIfMissing = async (file: string): Promise<void> => {
    const dest = path.join(dir, file);
    if (exists(dest)) return;
    await downloadTo(ctx, file, dest);
    downloaded.push(file);
  };

  await fetchIfMissing("config.json");
  if (!exists(path.join(dir, "model.safetensors.index.json"))) {
    try {
      await fetchIfMissing("model.safetensors");
      return { dir, repoId, revision, fromCache: false, downloaded };
    } catch (error) {
      if (!(error instanceof HubHttpError && error.status === 404)) throw error;
    }
    try {
      await fetchIfMissing("model.safetensors.index.json");
    } catch (error) {
      if (!(error instanceof HubHttpError && error.status === 404)) throw error;
      throw new Error(
        `${repoId} (revision "${revision}") has neither model.safetensors nor model.safetensors.index.json. ` +
          `mechlab reads safetensors weights only. If the repository has only pytorch_model.bin, look for a safetensors ` +
          `conversion pull request on the hub (then pass revision: "refs/pr/N"), or convert a local copy in Python with ` +
          `AutoModelForCausalLM.from_pretrained(dir).save_pretrained(outDir, safe_serialization=True) and load outDir.`,
      );
    }
  }
  for (const shard of shardsOfIndex(path.join(dir, "model.safetensors.index.json"))) await fetchIfMissing(shard);
  return { dir, repoId, revision, fromCache: false, downloaded };
}

/**
 * The tokenizer files fetched next to the weights when the hub has them. tokenizer.json comes
 * first; without it the others are of no use and are not asked for.
 */
export const TOKENIZER_FILES: readonly string[] = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/** Marks a file the hub does not have (HTTP 404), so that later loads do not ask again. */
const ABSENT_SUFFIX = ".absent";

export interface HubTokenizerFiles {
  /** The cache directory of the revision (the same as ensureHubSnapshot's). */
  dir: string;
  /** The tokenizer files now in `dir`. */
  present: string[];
  /** Files fetched by this call. */
  downloaded: string[];
  /** Files the hub does not have (remembered in the cache by an empty "<file>.absent" marker). */
  absent: string[];
  /** Why files could not be fetched (offline, unreachable, HTTP errors other than 404); empty when all is settled. */
  problems: string[];
}

/**
 * Fetches the tokenizer files (TOKENIZER_FILES) of a hub repository into its cache directory,
 * when the hub has them. Never fails for a file: a 404 is remembered as absent, and any other
 * failure (offline, unreachable, refused) is reported in `problems`, so a model whose weights
 * are cached still loads. Makes no request once every file is cached or known to be absent.
 */
export async function ensureHubTokenizerFiles(repoOrAlias: string, options: HubOptions = {}): Promise<HubTokenizerFiles> {
  const repoId = resolveRepoId(repoOrAlias);
  const revision = options.revision ?? "main";
  const cacheRoot = options.cacheDir !== undefined ? path.resolve(options.cacheDir) : defaultCacheDir();
  const dir = repoCacheDir(repoId, revision, cacheRoot);
  const result: HubTokenizerFiles = { dir, present: [], downloaded: [], absent: [], problems: [] };
  const settled = (file: string): "present" | "absent" | undefined =>
    exists(path.join(dir, file)) ? "present" : exists(path.join(dir, file + ABSENT_SUFFIX)) ? "absent" : undefined;
  const first = TOKENIZER_FILES[0];
  const needed = settled(first) === "absent" ? [first] : TOKENIZER_FILES;
  if (needed.every((f) => settled(f) !== undefined)) return summarize(result, settled);

  const { ctx, offline } = hubContext(repoId, revision, cacheRoot, dir, options);
  if (offline) {
    result.problems.push(`offline mode (${options.offline ? "offline: true" : "HF_HUB_OFFLINE"}) forbids downloading the tokenizer files of ${repoId}`);
    return summarize(result, settled);
  }
  for (const file of TOKENIZER_FILES) {
    if (file !== first && settled(first) !== "present") break;
    if (settled(file) !== undefined) continue;
    try {
      await downloadTo(ctx, file, path.join(dir, file));
      result.downloaded.push(file);
    } catch (error) {
      if (error instanceof HubHttpError && error.status === 404) {
        await fs.promises.mkdir(dir, { recursive: true });
        await fs.promises.writeFile(path.join(dir, file + ABSENT_SUFFIX), "");
      } else {
        // The first sentence says what went wrong; the rest of a download error is about weights.
        result.problems.push(`${file}: ${(error as Error).message.split(". ")[0]}`);
      }
    }
  }
  return summarize(result, settled);
}

function summarize(result: HubTokenizerFiles, settled: (file: string) => "present" | "absent" | undefined): HubTokenizerFiles {
  for (const file of TOKENIZER_FILES) {
    const state = settled(file);
    if (state === "present") result.present.push(file);
    else if (state === "absent") result.absent.push(file);
  }
  return result;
}
