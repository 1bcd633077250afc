import { counter, gauge, type MetricFamily } from './prometheus.ts'

const startedAtSeconds = Date.now() / 1000 - process.uptime()

/** The process' own figures, under the names Prometheus' client libraries use where one exists. */
export function processMetrics(): MetricFamily[] {
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  return [
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', memory.rss),
    gauge('saldo_heap_used_bytes', 'JavaScript heap in use, in bytes.', memory.heapUsed),
    gauge('saldo_heap_total_bytes', 'JavaScript heap reserved, in bytes.', memory.heapTotal),
    counter(
      'process_cpu_seconds_total',
      'User and system CPU time spent, in seconds.',
      (cpu.user + cpu.system) / 1e6,
    ),
    gauge(
      'process_start_time_seconds',
      'Start time of the process since the Unix epoch, in seconds.',
      startedAtSeconds,
    ),
  ]
}
