/**
 * Learning-rate schedules: a linear warm-up, then constant, cosine decay or linear decay to
 * `minLr` at `totalSteps`. Steps count from 0; step s trains with `learningRateAt(s, schedule)`.
 */
export type ScheduleShape = "constant" | "cosine" | "linear";

export interface LearningRateSchedule {
  /** The peak learning rate (after warm-up). */
  lr: number;
  /** Default "constant". */
  shape?: ScheduleShape;
  /** Steps of linear warm-up from lr / warmupSteps to lr (default 0). */
  warmupSteps?: number;
  /** For "cosine" and "linear": the step at which the rate reaches `minLr`. */
  totalSteps?: number;
  /** For "cosine" and "linear": the final rate (default 0). */
  minLr?: number;
}

export function learningRateAt(step: number, schedule: LearningRateSchedule): number {
  checkSchedule(schedule);
  const { lr, shape = "constant", warmupSteps = 0, minLr = 0 } = schedule;
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  if (shape === "constant") return lr;
  const total = schedule.totalSteps!;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, total - warmupSteps));
  if (shape === "linear") return lr + (minLr - lr) * progress;
  return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

export function checkSchedule(schedule: LearningRateSchedule): void {
  const { lr, shape = "constant", warmupSteps = 0, totalSteps, minLr = 0 } = schedule;
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`learning rate: lr must be a positive number, got ${lr}.`);
  if (!["constant", "cosine", "linear"].includes(shape)) throw new Error(`learning rate: shape must be "constant", "cosine" or "linear", got ${JSON.stringify(shape)}.`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`learning rate: warmupSteps must be a whole number ≥ 0, got ${warmupSteps}.`);
  if (shape !== "constant" && (totalSteps === undefined || !Number.isInteger(totalSteps) || totalSteps <= warmupSteps)) {
    throw new Error(`learning rate: a ${shape} schedule needs totalSteps, a whole number above warmupSteps (${warmupSteps}); got ${totalSteps}.`);
  }
  if (!(minLr >= 0) || minLr > lr) throw new Error(`learning rate: minLr must be in [0, lr], got ${minLr}.`);
}
