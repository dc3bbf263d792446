/**
 * mechlab: mechanistic interpretability on TensorFlow.js.
 *
 *   import { HookedTransformer, ready, tf } from "mechlab";
 *
 * `tf` is the one TensorFlow.js namespace mechlab uses; use it in notebooks rather than importing
 * @tensorflow/tfjs-core yourself, so there is only ever one copy (one backend registry).
 */
export { tf, ready, backendInfo, isReady, type BackendInfo, type BackendName } from "./backend";
export { HookedTransformer, type ForwardOptions, type RunWithHooksOptions, type RunWithCacheOptions, type FwdHook, type NamesFilter, type BothResult } from "./model/hookedTransformer";
export { resolveConfig, type Config, type ConfigInput, type ActFn, type NormalizationType, type PositionalEmbeddingType } from "./model/config";
export { expectedParamShapes, type StateDict } from "./model/stateDict";
export type { ModelInput, TokenizeOptions } from "./model/tokenInput";
export type { GenerateOptions } from "./model/generate";
export { ActivationCache } from "./cache/activationCache";
export { HookPoint, type HookFn, type HookContext, type HookSelector } from "./hooks/hookPoint";
export { actName, type HookName, type ShortActName, type BlockHookSuffix } from "./hooks/hookNames";
export * from "./tokenizers";
export { loadPretrainedWeights, type LoadPretrainedOptions, type PretrainedWeights } from "./loading/pretrained";
export { MODEL_ALIASES, defaultCacheDir, ensureHubSnapshot, ensureHubTokenizerFiles, type HubOptions } from "./loading/hub";
export { processWeights, foldLayerNorm, centerWritingWeights, centerUnembed, foldValueBiases, DEFAULT_PROCESSING, type ProcessWeightsOptions } from "./loading/processWeights";
export { convertHfCheckpoint, convertGpt2, convertNeox, convertLlama, SUPPORTED_ARCHITECTURES } from "./loading/convert";
export { readSafetensors, readSafetensorsHeader, readSafetensorsRaw, writeSafetensors, serializeSafetensors, parseSafetensors, type RawTensor } from "./loading/safetensors";
export { WidgetModel, DOM_WIDGET_DEFAULTS, registerWidgetControl, type WidgetState, type DOMWidgetState, type WidgetModelOptions, type ChangeEvent, type ChangesEvent, type CustomHandler } from "./widgets/runtime";
export { MechlabWidget, MECHLAB_MODEL_NAME, mechlabWidgetKeys, staticWidgetHtml, MECHLAB_WIDGET_MODULE, type MechlabWidgetState, type MechlabWidgetInit } from "./widgets";
export { attentionPatterns, AttentionPatternsWidget, ATTENTION_VIEW, type AttentionState, type AttentionPatternsOptions } from "./widgets/attentionWidget";
export { prepareAttention, type AttentionData, type AttentionDataOptions, type TokenOptions, type StrTokenSource } from "./widgets/attentionData";
export { tokenColors, TokenColorsWidget, TOKEN_COLORS_VIEW, type TokenColorsState, type TokenColorsOptions } from "./widgets/tokenColorsWidget";
export { prepareTokenColors, type TokenColorsData, type TokenColorsDataOptions, type TokenValues, type ColorScaleName } from "./widgets/tokenColorsData";
export { featureDashboard, FeatureDashboardWidget, FEATURE_DASHBOARD_VIEW, type FeatureDashboardState, type FeatureDashboardOptions } from "./widgets/featureDashboardWidget";
export { prepareFeatureDashboard, contextOf, type FeatureDashboardData, type FeatureDashboardDataOptions, type FeatureActivations, type FeatureContext, type DashboardModel, type VectorInput } from "./widgets/featureDashboardData";
export { featureActivations, type FeatureActivationsOptions } from "./widgets/featureActivations";
export { patchingSweep, patchingSweepWidget, PatchingSweepWidget, PATCHING_SWEEP_VIEW, type PatchingSweepState, type PatchingSweepOptions, type PatchingSweepResult, type SweepRunOptions, type SweepMetric, type SweepStatus } from "./widgets/patchingSweepWidget";
export { describeSweepGrid, sweepValuesToRows, sweepValuesToArrays, MAX_SWEEP_CELLS, type SweepGridSpec, type SweepGrid, type SweepGridKind, type SweepRow, type SweepValuesInput } from "./widgets/patchingSweepData";
export { toMimeBundle, plainText, JUPYTER_DISPLAY, type Displayable, type MimeBundle } from "./display/mimeBundle";
export { display, updateDisplay, clearOutput, type DisplayHandle, type DisplayValueOptions } from "./notebook/display";
export { input, password } from "./notebook/input";
export { interruptSignal, throwIfInterrupted } from "./notebook/interrupt";
export { logitLens, logitLensSync, lensRowName, type LogitLensResult, type LogitLensOptions, type LogitLensMode, type LogitLensTarget, type LensTokenizer } from "./analysis/logitLens";
export { plot, PlotWidget, PLOT_VIEW, mergeSpec, type PlotState, type PlotKind, type PlotOptions, type LineOptions, type HeatmapOptions, type ScatterOptions, type HistOptions, type VegaLiteSpec, type MatrixInput, type TableInput } from "./plots";
export { trainingProgress, TrainingProgressWidget, TRAINING_PROGRESS_VIEW, type TrainingProgressOptions, type TrainingProgressState, type TrainingStatus, type ProgressPoints } from "./train/trainingProgress";
export { logitLensWidget, logitLensFromPrompt, LogitLensWidget, LOGIT_LENS_VIEW, type LogitLensState, type LogitLensWidgetOptions, type LensColorBy, type LensShow } from "./widgets/logitLensWidget";
export { prepareLogitLens, cellTopK, type LogitLensData, type LensTopEntry } from "./widgets/logitLensData";
export { train, type TrainOptions, type TrainResult, type Metrics } from "./train/train";
export { AdamW, type AdamWOptions } from "./train/adamW";
export { learningRateAt, type LearningRateSchedule, type ScheduleShape } from "./train/learningRateSchedule";
export { clipByGlobalNorm, globalNorm } from "./train/clipGradients";
export { SeededRandom } from "./train/seededRandom";
export { listCheckpoints, type TrainingHistory, type EvaluationRecord } from "./train/trainingCheckpoint";
export { ToySuperpositionModel, trainToyModel, superpositionGeometry, geometryOf, representedFeatures, resolveToyConfig, type ToyModelConfig, type ResolvedToyConfig, type TrainToyOptions, type InstanceGeometry } from "./toy";
export { previousTokenScores, inductionScores, duplicateTokenScores, detectHead, type HeadScores, type DetectHeadOptions } from "./analysis/headDetectors";
export { FactoredMatrix } from "./analysis/factoredMatrix";
export { qkCircuit, ovCircuit, fullQkCircuit, fullOvCircuit, ovCopyingScores, compositionScores, type CompositionKind } from "./analysis/circuits";
export { activationPatching, patchingGrid, patchHookName, patchingRows, type PatchedActivation, type ActivationPatchingOptions, type PatchingResult, type PatchingProgress, type PatchCell } from "./patching/activationPatching";
export { naiveActivationPatching } from "./patching/naiveActivationPatching";
export { attributionPatching, compareWithActivationPatching, type AttributionComparison } from "./patching/attributionPatching";
export { ablationHooks, runWithAblations, ablationHook, type Ablation, type AblatedComponent, type AblationMethod, type AblationOptions } from "./patching/ablation";
export { patchActivationAt, activationPatchingEvery, type PatchAtOptions, type ActivationIndex, type PatchingSummary } from "./patching/customPatching";
export { pathPatching, pathPatchingSweep, type PathPatchingOptions, type PathReceivers, type Head } from "./patching/pathPatching";
export { activationPatchingSweep, type ActivationPatchingSweepOptions } from "./widgets/activationPatchingSweep";
export { hydraEffect, type HydraEffectOptions, type HydraEffectResult, type ComponentEffect } from "./patching/hydraEffect";
export { logitDiffMetric, type PatchingMetric, type LogitDiffMetricOptions } from "./patching/patchingMetric";
export { trainLinearProbe, LinearProbe, trainTestSplit, gatherRows, gatherLabels, majorityBaseline, type ProbeLabels, type LinearProbeOptions, type ProbeEvaluation } from "./probes/linearProbe";
export { steeringVector, steeringVectorFromPairs, steeringVectorFromMeans, steeringHook, withSteering, type SteeringVector, type SteeringOptions } from "./steering/steeringVector";
export { fitLeace, LeaceEraser, type LeaceOptions } from "./probes/leace";
export { loadOrganism, listOrganismCheckpoints, organismTrainingRecord, organismTrainingHistory, type OrganismName, type OrganismModels, type LoadOrganismOptions } from "./organisms/loadOrganism";
export { trainOrganism } from "./organisms/trainOrganism";
export { ORGANISMS, organismNames, getOrganism } from "./organisms/registry";
export type { OrganismRecipe, TrainingRecord, OrganismTrainOptions, OrganismTrainingHistory } from "./organisms/organism";
export type { PastKeyValues } from "./model/forwardPass";
export { saveToyModel, loadToyModel } from "./toy/toyModelFiles";
