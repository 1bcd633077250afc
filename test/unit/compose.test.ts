import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'

const root = join(import.meta.dir, '../..')

interface Service {
  image: string
  ports: string[]
  profiles?: string[]
  environment: Record<string, unknown>
}

const compose = async () =>
  Bun.YAML.parse(await Bun.file(join(root, 'compose.yaml')).text()) as { services: Record<string, Service> }

const nativeVersion = async () =>
  /<kafka.version>([^<]+)<\/kafka.version>/.exec(
    await Bun.file(join(root, 'scripts/kafka/pom.xml')).text(),
  )?.[1]

describe('compose.yaml', () => {
  it('parses and runs the same Kafka version as the native broker of scripts/kafka.sh', async () => {
    const { services } = await compose()
    expect(services.kafka?.image).toBe(`apache/kafka:${await nativeVersion()}`)
    expect(services.kafka?.ports).toContain('9092:9092')
    expect(services.kafka?.profiles).toBeUndefined()
    expect(services.kafka?.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false')
  })

  it('has the 3-node cluster of `kafka.sh start --brokers 3` as the profile "cluster", on localhost:9192-9194', async () => {
    const { services } = await compose()
    const version = await nativeVersion()
    for (const n of [1, 2, 3]) {
      const node = services[`kafka-${n}`]
      expect(node?.profiles).toEqual(['cluster'])
      expect(node?.image).toBe(`apache/kafka:${version}`)
      // scripts/kafka.sh's layout: node N on the first port + N - 1.
      expect(node?.ports).toEqual([`${9191 + n}:9192`])
      expect(node?.environment).toMatchObject({
        KAFKA_NODE_ID: n,
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093',
        KAFKA_ADVERTISED_LISTENERS: `INTERNAL://kafka-${n}:9092,EXTERNAL://localhost:${9191 + n}`,
        KAFKA_DEFAULT_REPLICATION_FACTOR: 3,
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 2,
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      // The image formats the storage of each node with this id: one id, one cluster.
      expect(node?.environment.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/)
    }
  })
})
