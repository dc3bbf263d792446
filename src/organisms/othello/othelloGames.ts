/**
 * Synthetic Othello games and their tokens, as in Othello-GPT (Li et al.): each move is drawn
 * uniformly from the legal moves of the player to move; a player with no legal move passes; a
 * game is the sequence of squares played (passes are not tokens), until neither player can move.
 *
 * Tokens: one per playable square (every square but the four centre ones), named like the board
 * ("A1", "B1", … row-major), then "<s>" (BOS, which starts every sequence) and "<pad>" (after a
 * game that ends early). On 6×6: squares 0 … 31, BOS 32, pad 33; a game is at most 32 moves.
 *
 *   const games = randomGames(100, { size: 6, seed: 1 });       // number[][] of squares
 *   const tokenizer = othelloTokenizer(6);
 *   model.toStrTokens(gameTokens(games[0], 6))                   // ["<s>", "C2", "B3", …]
 */
import { VocabTokenizer } from "../../tokenizers/vocabTokenizer";
import { SeededRandom } from "../../train/seededRandom";
import { centreSquares, checkBoardSize, OthelloBoard, squareName } from "./othelloBoard";

export const OTHELLO_BOS = "<s>";
export const OTHELLO_PAD = "<pad>";

/** The playable squares (board indices) in token order: row-major, centre squares left out. */
export function playableSquares(size: number): number[] {
  const centre = new Set(centreSquares(size));
  return Array.from({ length: size * size }, (_, s) => s).filter((s) => !centre.has(s));
}

/** Words of the vocabulary: square names ("A1", …) of the playable squares, row-major. */
export function othelloTokenizer(size: number): VocabTokenizer {
  return new VocabTokenizer(playableSquares(size).map((s) => squareName(s, size)), { bos: OTHELLO_BOS, pad: OTHELLO_PAD });
}

/** Token id of each board square (−1 for the centre squares). [size * size] */
export function tokenOfSquare(size: number): number[] {
  const ids = new Array<number>(size * size).fill(-1);
  playableSquares(size).forEach((s, id) => (ids[s] = id));
  return ids;
}

/** One random legal game from `random`: the squares played, in order (passes skipped). */
export function randomGame(random: SeededRandom, size: number): number[] {
  const board = OthelloBoard.start(size);
  while (!board.isOver) {
    const moves = board.legalMoves();
    board.play(moves[random.int(moves.length)]);
  }
  return board.history;
}

/** `n` random legal games, repeatable from the seed (one generator for all of them). */
export function randomGames(n: number, options: { size: number; seed: number }): number[][] {
  checkBoardSize(options.size);
  if (!Number.isInteger(n) || n < 0) throw new Error(`randomGames: n must be a whole number ≥ 0, got ${n}.`);
  const random = new SeededRandom(options.seed);
  return Array.from({ length: n }, () => randomGame(random, options.size));
}

/** Token ids of a game: BOS, then one token per move (no padding). */
export function gameTokens(game: readonly number[], size: number): number[] {
  const ids = tokenOfSquare(size);
  const bos = playableSquares(size).length;
  return [
    bos,
    ...game.map((square, i) => {
      const id = ids[square];
      if (id === undefined || id < 0) throw new Error(`gameTokens: move ${i} is square ${square}, which is not a playable square of a ${size}×${size} board.`);
      return id;
    }),
  ];
}

/** What the board looks like along a game, position by position (position 0 is BOS, position t after move t). */
export interface GameTrace {
  /** Legal moves of the player to move, as token ids ([] once the game is over). [moves + 1][] */
  legalTokens: number[][];
  /** Board relative to the player to move (0 empty, 1 mine, 2 theirs). [moves + 1][size²] */
  relative: number[][];
  /** Board in colours (0 empty, 1 black, 2 white). [moves + 1][size²] */
  absolute: number[][];
  /** Who is to move. [moves + 1] */
  toMove: ("black" | "white")[];
}

/** Replays a game and records, before each move and after the last, the board and the legal moves. */
export function traceGame(game: readonly number[], size: number): GameTrace {
  const ids = tokenOfSquare(size);
  const board = OthelloBoard.start(size);
  const trace: GameTrace = { legalTokens: [], relative: [], absolute: [], toMove: [] };
  const record = () => {
    trace.legalTokens.push(board.legalMoves().map((s) => ids[s]));
    trace.relative.push(board.relativeState());
    trace.absolute.push(board.absoluteState());
    trace.toMove.push(board.toMove);
  };
  record();
  for (const square of game) {
    board.play(square);
    record();
  }
  return trace;
}
