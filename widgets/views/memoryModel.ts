/**
 * An in-memory ViewModel: the model of static pages and tests. `set` changes the page only and
 * fires change events; `save_changes` and `send` reach no kernel (they are recorded for tests).
 */
import type { ChangeCallback, ViewModel } from "./viewContract";

export class MemoryModel implements ViewModel {
  private readonly state: Record<string, unknown>;
  private readonly listeners = new Map<string, Set<ChangeCallback>>();
  private readonly changedKeys = new Set<string>();
  /** How many times `save_changes` was called. */
  saves = 0;
  /** The custom messages sent. */
  readonly sent: Record<string, unknown>[] = [];

  constructor(state: Record<string, unknown> = {}) {
    this.state = { ...state };
  }

  get(key: string): unknown {
    return this.state[key];
  }

  set(key: string, value: unknown): void {
    if (Object.is(this.state[key], value)) return;
    this.state[key] = value;
    this.changedKeys.add(key);
    this.fire(`change:${key}`);
    this.fire("change");
  }

  save_changes(): void {
    this.saves += 1;
    this.changedKeys.clear();
  }

  on(event: string, callback: ChangeCallback): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(callback);
  }

  off(event: string, callback: ChangeCallback): void {
    this.listeners.get(event)?.delete(callback);
  }

  send(content: Record<string, unknown>): void {
    this.sent.push(content);
  }

  private fire(event: string): void {
    for (const callback of [...(this.listeners.get(event) ?? [])]) callback();
  }
}
