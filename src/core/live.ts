/**
 * Counters the hot path reads on every call. One plain object (rather than `export let`) because
 * each method's wrapper is compiled separately (see runtime/wrapper.ts) and can only see its parameters.
 */
export const live = {
  /** Bumped by every hook, accessor or record registration: compiled class records are stale. */
  hookVersion: 1,
  /** Flows with per-instance bookkeeping (in flight or waited on); 0 lets calls skip the lookup. */
  flagged: 0,
};
