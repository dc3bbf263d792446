/**
 * The Othello simulator and game generator, against known perft counts, hand-built positions and
 * an independent plain reference implementation (2-D arrays, written separately below).
 */
import { describe, expect, it } from "vitest";
import { OthelloBoard, perft, squareIndex, squareName, type Player } from "../../src/organisms/othello/othelloBoard";
import { gameTokens, othelloTokenizer, playableSquares, randomGames, traceGame } from "../../src/organisms/othello/othelloGames";
import { SeededRandom } from "../../src/train/seededRandom";

// ---------------------------------------------------------------- reference implementation
// Cells: "B", "W" or "." in a 2-D array; a move is [row, col].
type Grid = string[][];

function refStart(n: number): Grid {
  const g: Grid = Array.from({ length: n }, () => new Array<string>(n).fill("."));
  const h = n / 2;
  g[h - 1][h - 1] = "W";
  g[h][h] = "W";
  g[h - 1][h] = "B";
  g[h][h - 1] = "B";
  return g;
}

function refFlips(g: Grid, row: number, col: number, me: string): [number, number][] {
  if (g[row][col] !== ".") return [];
  const them = me === "B" ? "W" : "B";
  const out: [number, number][] = [];
  for (const dr of [-1, 0, 1]) {
    for (const dc of [-1, 0, 1]) {
      if (dr === 0 && dc === 0) continue;
      const run: [number, number][] = [];
      let r = row + dr;
      let c = col + dc;
      while (g[r]?.[c] === them) {
        run.push([r, c]);
        r += dr;
        c += dc;
      }
      if (run.length && g[r]?.[c] === me) out.push(...run);
    }
  }
  return out;
}

function refLegal(g: Grid, me: string): number[] {
  const n = g.length;
  const moves: number[] = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (refFlips(g, r, c, me).length) moves.push(r * n + c);
  return moves;
}

const colour = (p: Player) => (p === "black" ? "B" : "W");

// ---------------------------------------------------------------- tests

describe("OthelloBoard", () => {
  it("perft from the 8×8 start: 4, 12, 56, 244, 1396, 8200 for depths 1–6", () => {
    const counts = [1, 2, 3, 4, 5, 6].map((d) => perft(OthelloBoard.start(8), d));
    expect(counts).toEqual([4, 12, 56, 244, 1396, 8200]);
  });

  it("no pass and no game end happens within 6 moves on 8×8, so the pass convention does not change those counts", () => {
    // Our convention: a pass is automatic and not a move (as in the token sequences). The published
    // perft counts treat a pass as a move of its own. They can only differ below a position where
    // someone must pass or the game ends; up to depth 6 there is none, checked here over the whole tree.
    let passesOrEnds = 0;
    const walk = (board: OthelloBoard, depth: number) => {
      if (depth === 0) return;
      for (const square of board.legalMoves()) {
        const next = board.clone();
        const mover = next.toMove;
        next.play(square);
        if (next.isOver || next.toMove === mover) passesOrEnds++;
        walk(next, depth - 1);
      }
    };
    walk(OthelloBoard.start(8), 6);
    expect(passesOrEnds).toBe(0);
  });

  it("starts with the standard position and black's four moves D3 C4 F5 E6", () => {
    const board = OthelloBoard.start(8);
    expect(board.toMove).toBe("black");
    expect(board.at(squareIndex("D4", 8))).toBe("white");
    expect(board.at(squareIndex("E4", 8))).toBe("black");
    expect(board.legalMoves().map((s) => squareName(s, 8)).sort()).toEqual(["C4", "D3", "E6", "F5"]);
    expect(board.counts()).toEqual({ black: 2, white: 2, empty: 60 });
    const small = OthelloBoard.start(6);
    expect(small.legalMoves().map((s) => squareName(s, 6))).toEqual(["C2", "B3", "E4", "D5"]);
  });

  it("flips every closed line and nothing else (hand-built position)", () => {
    const board = OthelloBoard.fromRows(
      [
        "B . B . B .",
        ". W W W . .",
        "B W . W W B",
        ". W W W . .",
        "W . W . B .",
        ". . . . . .",
      ],
      "black",
    );
    // C3 closes: up (C2 to C1), up-right (D2 to E1), right (D3, E3 to F3), down-right (D4 to E5),
    // left (B3 to A3), up-left (B2 to A1). Down (C4 then C5 = W) and down-left (B4 then A5 = W) stay open.
    const c3 = squareIndex("C3", 6);
    const expected = ["C2", "D2", "D3", "E3", "D4", "B3", "B2"].map((s) => squareIndex(s, 6)).sort((a, b) => a - b);
    expect(board.flipsOf(c3).sort((a, b) => a - b)).toEqual(expected);
    const flipped = board.play(c3);
    expect(flipped.sort((a, b) => a - b)).toEqual(expected);
    expect(board.toString().split("\n")).toEqual(["B.B.B.", ".BBB..", "BBBBBB", ".WWB..", "W.W.B.", "......"]);
    expect(board.toMove).toBe("white");
  });

  it("does not wrap lines around the board edge", () => {
    const board = OthelloBoard.fromRows(
      [
        ". . . . . W",
        "B . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
      ],
      "black",
    );
    // F1 then A2 are adjacent in row-major order but not on the board: E1 must not be a move.
    expect(board.legalMoves()).toEqual([]);
  });

  it("passes: the opponent with no move is skipped; the game ends when neither can move", () => {
    // White has no stone that black could not outflank next; after black A1 white has no move and no stones.
    const board = OthelloBoard.fromRows(
      [
        ". W B . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
      ],
      "black",
    );
    board.play(squareIndex("A1", 6));
    expect(board.isOver).toBe(true);
    expect(board.legalMoves()).toEqual([]);
    expect(() => board.play(squareIndex("D1", 6))).toThrow(/game is over/);

    const passing = OthelloBoard.fromRows(
      [
        ". W B . W B",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
        ". . . . . .",
      ],
      "black",
    );
    passing.play(squareIndex("A1", 6)); // white is left with E1 only, which has no move
    expect(passing.isOver).toBe(false);
    expect(passing.toMove).toBe("black"); // white passed
    expect(passing.legalMoves().map((s) => squareName(s, 6))).toEqual(["D1"]);
    passing.play(squareIndex("D1", 6));
    expect(passing.isOver).toBe(true);
  });

  it("relative state is mine/theirs for the player to move", () => {
    const board = OthelloBoard.start(6);
    const d3 = squareIndex("D3", 6); // black at the start
    expect(board.relativeState()[d3]).toBe(1);
    board.play(board.legalMoves()[0]);
    expect(board.toMove).toBe("white");
    expect(board.relativeState()[d3]).toBe(2);
    expect(board.absoluteState()[d3]).toBe(1);
    expect(board.relativeState("black")[d3]).toBe(1);
  });

  it("agrees with the reference implementation on every position of random 6×6 and 8×8 games", () => {
    const random = new SeededRandom(7);
    for (const size of [6, 8]) {
      for (let game = 0; game < 30; game++) {
        const board = OthelloBoard.start(size);
        const grid = refStart(size);
        while (!board.isOver) {
          const me = colour(board.toMove);
          const legal = board.legalMoves();
          expect(legal).toEqual(refLegal(grid, me));
          expect(legal.length).toBeGreaterThan(0);
          const square = legal[random.int(legal.length)];
          const r = Math.floor(square / size);
          const c = square % size;
          const refFlipped = refFlips(grid, r, c, me).map(([rr, cc]) => rr * size + cc).sort((a, b) => a - b);
          expect(board.play(square).sort((a, b) => a - b)).toEqual(refFlipped);
          grid[r][c] = me;
          for (const s of refFlipped) grid[Math.floor(s / size)][s % size] = me;
          expect(board.toString()).toBe(grid.map((row) => row.join("")).join("\n"));
          // Turn order: the opponent if they can move, else the same player, else the game is over.
          const them = me === "B" ? "W" : "B";
          if (refLegal(grid, them).length) expect(colour(board.toMove)).toBe(them);
          else if (refLegal(grid, me).length) expect(colour(board.toMove)).toBe(me);
          else expect(board.isOver).toBe(true);
        }
      }
    }
  });

  it("explains bad input", () => {
    expect(() => OthelloBoard.start(7)).toThrow(/even whole number from 4 to 26; got 7/);
    expect(() => squareIndex("G1", 6)).toThrow(/"G1" is not a square of a 6×6 board; squares are named A1 … F6/);
    const board = OthelloBoard.start(6);
    expect(() => board.play(0)).toThrow(/A1 is not a legal move for black; legal moves: C2 B3 E4 D5/);
    expect(() => board.play(36)).toThrow(/Square 36 is off the 6×6 board/);
  });
});

describe("random games and tokens", () => {
  it("6×6 games are legal from start to end, and end only when neither player can move", () => {
    for (const game of randomGames(200, { size: 6, seed: 3 })) {
      const grid = refStart(6);
      const board = OthelloBoard.start(6);
      for (const square of game) {
        expect(refLegal(grid, colour(board.toMove))).toContain(square);
        const me = colour(board.toMove);
        for (const [r, c] of refFlips(grid, Math.floor(square / 6), square % 6, me)) grid[r][c] = me;
        grid[Math.floor(square / 6)][square % 6] = me;
        board.play(square);
      }
      expect(refLegal(grid, "B")).toEqual([]);
      expect(refLegal(grid, "W")).toEqual([]);
      expect(game.length).toBeLessThanOrEqual(32);
      expect(new Set(game).size).toBe(game.length);
    }
  });

  it("are repeatable from the seed and uniform over the legal moves", () => {
    expect(randomGames(5, { size: 6, seed: 11 })).toEqual(randomGames(5, { size: 6, seed: 11 }));
    expect(randomGames(5, { size: 6, seed: 11 })).not.toEqual(randomGames(5, { size: 6, seed: 12 }));
    // Black's first move: 4 choices, each ≈ 1/4 of 4000 games (binomial sd ≈ 27).
    const first = new Map<number, number>();
    for (const game of randomGames(4000, { size: 6, seed: 5 })) first.set(game[0], (first.get(game[0]) ?? 0) + 1);
    expect(first.size).toBe(4);
    for (const count of first.values()) expect(Math.abs(count - 1000)).toBeLessThan(120);
  });

  it("tokenise as square names, so toStrTokens reads as moves", () => {
    const tokenizer = othelloTokenizer(6);
    expect(tokenizer.vocabSize).toBe(34);
    expect(tokenizer.words.length).toBe(32);
    expect(tokenizer.words.slice(0, 8)).toEqual(["A1", "B1", "C1", "D1", "E1", "F1", "A2", "B2"]);
    expect(tokenizer.words).not.toContain("C3");
    const game = randomGames(1, { size: 6, seed: 2 })[0];
    const ids = gameTokens(game, 6);
    expect(ids[0]).toBe(tokenizer.bosTokenId);
    expect(tokenizer.tokenStrings(ids).slice(1)).toEqual(game.map((s) => squareName(s, 6)));
    expect(tokenizer.encode(tokenizer.decode(ids))).toEqual(ids);
    expect(playableSquares(8).length).toBe(60);
  });

  it("traces a game: legal moves and boards before each move and after the last", () => {
    const game = randomGames(1, { size: 6, seed: 9 })[0];
    const trace = traceGame(game, 6);
    expect(trace.legalTokens.length).toBe(game.length + 1);
    expect(trace.legalTokens.at(-1)).toEqual([]);
    const ids = gameTokens(game, 6).slice(1);
    game.forEach((_, t) => expect(trace.legalTokens[t]).toContain(ids[t]));
    expect(trace.relative[0].filter((v) => v === 1).length).toBe(2);
    expect(trace.absolute.at(-1)!.filter((v) => v === 0).length).toBe(36 - 4 - game.length);
  });
});
