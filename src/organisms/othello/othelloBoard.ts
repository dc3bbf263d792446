/**
 * An Othello (Reversi) board of any even size N ≥ 4 (6×6 and 8×8 are the usual ones), with the
 * standard rules:
 *
 * - Start: the four centre squares hold two white and two black stones on the diagonals (the top-left
 *   centre square white, as on a standard 8×8 board: d4 and e5 white, e4 and d5 black); black moves first.
 * - A move places a stone on an empty square so that, in at least one of the 8 directions, a
 *   contiguous line of the opponent's stones is closed off by one of the mover's stones; every such
 *   line is flipped.
 * - A player with no legal move passes; the game ends when neither player can move.
 *
 * Squares are numbered row-major, `square = row * N + col` (0-based); their names are the column
 * letter then the row number, "A1" (top-left) … "F6" on 6×6, so that the first black moves on 8×8
 * are D3, C4, F5, E6.
 *
 *   const board = OthelloBoard.start(6);
 *   board.legalMoves();                 // squares the player to move can play
 *   const flipped = board.play(board.legalMoves()[0]);   // passes are handled: see `play`
 *   board.relativeState();              // 0 empty, 1 mine, 2 theirs, for the player to move
 *
 * Plain JavaScript (no tensors), so nothing to dispose.
 */

/** A stone's colour, or who is to move. Black moves first. */
export type Player = "black" | "white";

/** What a square holds, relative to a player: empty, that player's stone ("mine"), the opponent's ("theirs"). */
export const RELATIVE_STATES = ["empty", "mine", "theirs"] as const;
export const EMPTY = 0;
export const MINE = 1;
export const THEIRS = 2;

/** What a square holds in absolute colours (the black/white labelling, for comparison with mine/theirs). */
export const ABSOLUTE_STATES = ["empty", "black", "white"] as const;

const DIRECTIONS: ReadonlyArray<readonly [number, number]> = [
  [-1, -1], [-1, 0], [-1, 1],
  [0, -1], [0, 1],
  [1, -1], [1, 0], [1, 1],
];

// Cells hold 0 (empty), 1 (black) or 2 (white).
const BLACK_CELL = 1;
const WHITE_CELL = 2;

function cellOf(player: Player): number {
  return player === "black" ? BLACK_CELL : WHITE_CELL;
}

export function opponent(player: Player): Player {
  return player === "black" ? "white" : "black";
}

/** Checks a board size: an even whole number from 4 to 26 (columns are lettered A–Z). */
export function checkBoardSize(size: number): void {
  if (!Number.isInteger(size) || size < 4 || size > 26 || size % 2 !== 0) {
    throw new Error(`Othello board size must be an even whole number from 4 to 26; got ${size}.`);
  }
}

/** The name of a square: column letter then row number ("A1" top-left, "D3"). */
export function squareName(square: number, size: number): string {
  checkBoardSize(size);
  if (!Number.isInteger(square) || square < 0 || square >= size * size) {
    throw new Error(`Square ${square} is off a ${size}×${size} board; squares are 0 … ${size * size - 1} (row * ${size} + col).`);
  }
  return String.fromCharCode(65 + (square % size)) + String(Math.floor(square / size) + 1);
}

/** The square (row * size + col) of a name such as "C4" (case-insensitive). */
export function squareIndex(name: string, size: number): number {
  checkBoardSize(size);
  const match = /^([A-Za-z])(\d+)$/.exec(name);
  const col = match ? match[1].toUpperCase().charCodeAt(0) - 65 : -1;
  const row = match ? Number(match[2]) - 1 : -1;
  if (!match || col < 0 || col >= size || row < 0 || row >= size) {
    const last = String.fromCharCode(64 + size) + size;
    throw new Error(`"${name}" is not a square of a ${size}×${size} board; squares are named A1 … ${last} (column letter, row number).`);
  }
  return row * size + col;
}

/** The four centre squares, occupied at the start (never playable). */
export function centreSquares(size: number): number[] {
  checkBoardSize(size);
  const h = size / 2;
  return [(h - 1) * size + h - 1, (h - 1) * size + h, h * size + h - 1, h * size + h];
}

export class OthelloBoard {
  readonly size: number;
  /** Who moves next; after the game ends, the player who would have moved next had it gone on. */
  toMove: Player;
  /** Moves played so far (squares), passes not included. */
  readonly history: number[] = [];
  private readonly cells: Uint8Array;
  private over = false;

  private constructor(size: number, cells: Uint8Array, toMove: Player) {
    this.size = size;
    this.cells = cells;
    this.toMove = toMove;
  }

  /** The start position on a size×size board, black to move. */
  static start(size = 8): OthelloBoard {
    checkBoardSize(size);
    const cells = new Uint8Array(size * size);
    const [topLeft, topRight, bottomLeft, bottomRight] = centreSquares(size);
    cells[topLeft] = WHITE_CELL;
    cells[bottomRight] = WHITE_CELL;
    cells[topRight] = BLACK_CELL;
    cells[bottomLeft] = BLACK_CELL;
    return new OthelloBoard(size, cells, "black");
  }

  /**
   * A position from a picture: `size` rows of `size` characters, "B"/"X" black, "W"/"O" white,
   * "." empty (whitespace between characters ignored), and who is to move. For hand-built tests.
   */
  static fromRows(rows: string[], toMove: Player): OthelloBoard {
    const size = rows.length;
    checkBoardSize(size);
    const cells = new Uint8Array(size * size);
    rows.forEach((line, r) => {
      const chars = line.replace(/\s+/g, "");
      if (chars.length !== size) throw new Error(`OthelloBoard.fromRows: row ${r + 1} has ${chars.length} squares; expected ${size}.`);
      [...chars].forEach((ch, c) => {
        if (ch === "B" || ch === "X") cells[r * size + c] = BLACK_CELL;
        else if (ch === "W" || ch === "O") cells[r * size + c] = WHITE_CELL;
        else if (ch !== ".") throw new Error(`OthelloBoard.fromRows: "${ch}" at row ${r + 1}, column ${c + 1}; use B/X (black), W/O (white) or . (empty).`);
      });
    });
    return new OthelloBoard(size, cells, toMove);
  }

  clone(): OthelloBoard {
    const copy = new OthelloBoard(this.size, this.cells.slice(), this.toMove);
    copy.history.push(...this.history);
    copy.over = this.over;
    return copy;
  }

  /** What is on a square: "black", "white" or "empty". */
  at(square: number): "black" | "white" | "empty" {
    this.checkSquare(square);
    const cell = this.cells[square];
    return cell === BLACK_CELL ? "black" : cell === WHITE_CELL ? "white" : "empty";
  }

  /** The squares `player` would flip by playing `square` (empty if the move is illegal). */
  flipsOf(square: number, player: Player = this.toMove): number[] {
    this.checkSquare(square);
    if (this.cells[square] !== 0) return [];
    const n = this.size;
    const mine = cellOf(player);
    const theirs = cellOf(opponent(player));
    const row = Math.floor(square / n);
    const col = square % n;
    const flips: number[] = [];
    for (const [dr, dc] of DIRECTIONS) {
      const line: number[] = [];
      let r = row + dr;
      let c = col + dc;
      while (r >= 0 && r < n && c >= 0 && c < n && this.cells[r * n + c] === theirs) {
        line.push(r * n + c);
        r += dr;
        c += dc;
      }
      // The line counts only if it is closed by one of the mover's stones.
      if (line.length > 0 && r >= 0 && r < n && c >= 0 && c < n && this.cells[r * n + c] === mine) flips.push(...line);
    }
    return flips;
  }

  /** The squares `player` (default the player to move) can play, in increasing order. */
  legalMoves(player: Player = this.toMove): number[] {
    if (this.over) return [];
    const moves: number[] = [];
    for (let square = 0; square < this.cells.length; square++) {
      if (this.cells[square] === 0 && this.flipsOf(square, player).length > 0) moves.push(square);
    }
    return moves;
  }

  isLegal(square: number): boolean {
    return !this.over && this.flipsOf(square).length > 0;
  }

  /** Whether neither player can move. */
  get isOver(): boolean {
    return this.over;
  }

  /**
   * Plays `square` for the player to move and returns the flipped squares. Then the turn passes
   * to the opponent if they have a legal move; otherwise the opponent passes and the same player
   * moves again; if neither can move the game is over. (Passes are not moves: `history` and a
   * game's token sequence hold only the squares played.) Throws on an illegal move.
   */
  play(square: number): number[] {
    this.checkSquare(square);
    if (this.over) throw new Error(`The game is over; ${squareName(square, this.size)} cannot be played.`);
    const flips = this.flipsOf(square);
    if (flips.length === 0) {
      const legal = this.legalMoves().map((s) => squareName(s, this.size));
      throw new Error(`${squareName(square, this.size)} is not a legal move for ${this.toMove}; legal moves: ${legal.join(" ") || "none"}.`);
    }
    const mine = cellOf(this.toMove);
    this.cells[square] = mine;
    for (const s of flips) this.cells[s] = mine;
    this.history.push(square);
    const next = opponent(this.toMove);
    if (this.hasMove(next)) this.toMove = next;
    else if (!this.hasMove(this.toMove)) {
      this.over = true;
      this.toMove = next;
    }
    return flips;
  }

  /** Stones of each colour. */
  counts(): { black: number; white: number; empty: number } {
    let black = 0;
    let white = 0;
    for (const cell of this.cells) {
      if (cell === BLACK_CELL) black++;
      else if (cell === WHITE_CELL) white++;
    }
    return { black, white, empty: this.cells.length - black - white };
  }

  /** Every square relative to `player` (default the player to move): 0 empty, 1 mine, 2 theirs. [size * size] */
  relativeState(player: Player = this.toMove): number[] {
    const mine = cellOf(player);
    return Array.from(this.cells, (cell) => (cell === 0 ? EMPTY : cell === mine ? MINE : THEIRS));
  }

  /** Every square in absolute colours: 0 empty, 1 black, 2 white. [size * size] */
  absoluteState(): number[] {
    return Array.from(this.cells);
  }

  /** The board as rows of "B", "W" and ".". */
  toString(): string {
    const rows: string[] = [];
    for (let r = 0; r < this.size; r++) {
      rows.push(Array.from(this.cells.subarray(r * this.size, (r + 1) * this.size), (cell) => (cell === BLACK_CELL ? "B" : cell === WHITE_CELL ? "W" : ".")).join(""));
    }
    return rows.join("\n");
  }

  private hasMove(player: Player): boolean {
    for (let square = 0; square < this.cells.length; square++) {
      if (this.cells[square] === 0 && this.flipsOf(square, player).length > 0) return true;
    }
    return false;
  }

  private checkSquare(square: number): void {
    if (!Number.isInteger(square) || square < 0 || square >= this.cells.length) {
      throw new Error(`Square ${square} is off the ${this.size}×${this.size} board; squares are 0 … ${this.cells.length - 1} (row * ${this.size} + col).`);
    }
  }
}

/**
 * Perft: the number of move sequences of exactly `depth` moves from `board` (the leaves of the
 * game tree at that depth). Passes are automatic (see `play`) and are not counted as moves; a
 * game that ends before `depth` moves contributes nothing. In the first 6 moves of 8×8 Othello
 * no one ever has to pass, so up to depth 6 this agrees with every pass convention.
 */
export function perft(board: OthelloBoard, depth: number): number {
  if (!Number.isInteger(depth) || depth < 0) throw new Error(`perft: depth must be a whole number ≥ 0, got ${depth}.`);
  if (depth === 0) return 1;
  let total = 0;
  for (const square of board.legalMoves()) {
    const next = board.clone();
    next.play(square);
    total += depth === 1 ? 1 : perft(next, depth - 1);
  }
  return total;
}
