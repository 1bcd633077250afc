import type { Logger } from '../log.ts'
import type { BalanceStore } from '../store/store.ts'
import type { ReplayProgress } from './replay-progress.ts'

export interface ReplayLogDeps {
  progress: ReplayProgress
  store: Pick<BalanceStore, 'size' | 'loadedFromSnapshot'>
  log: Logger
  intervalMs: number
  /** False while there is no replay to speak of yet (the topic is being read or planned). */
  replaying: () => boolean
}

/**
 * Logs the replay's progress every `intervalMs` (positions, records/s, ETA) and, once, its end.
 * Returns what stops it.
 */
export function logReplay({ progress, store, log, intervalMs, replaying }: ReplayLogDeps): () => void {
  const timer = setInterval(() => {
    if (progress.ready || !replaying()) return
    const snap = progress.snapshot()
    log.info('replay progress', {
      partitions: snap.partitions.map((p) => `${p.partition}:${p.position}/${p.endOffset}`).join(' '),
      remaining: snap.remaining,
      recordsPerSecond: snap.recordsPerSecond,
      etaSeconds: snap.etaSeconds,
    })
  }, intervalMs)
  progress.onReady(() => {
    clearInterval(timer)
    log.info('replay complete; tailing', {
      keys: store.size,
      loadedFromSnapshot: store.loadedFromSnapshot,
      replayedOffsets: progress.replayedOffsets,
      ms: progress.replayMs,
      recordsPerSecond: progress.snapshot().recordsPerSecond,
    })
  })
  return () => clearInterval(timer)
}
