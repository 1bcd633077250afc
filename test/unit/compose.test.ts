import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'

const root = join(import.meta.dir, '../..')

describe('compose.yaml', () => {
  it('parses and runs the same Kafka version as the native broker of scripts/kafka.sh', async () => {
    const compose = Bun.YAML.parse(await Bun.file(join(root, 'compose.yaml')).text()) as {
      services: { kafka: { image: string; ports: string[]; environment: Record<string, unknown> } }
    }
    const pom = await Bun.file(join(root, 'scripts/kafka/pom.xml')).text()
    const nativeVersion = /<kafka.version>([^<]+)<\/kafka.version>/.exec(pom)?.[1]
    expect(compose.services.kafka.image).toBe(`apache/kafka:${nativeVersion}`)
    expect(compose.services.kafka.ports).toContain('9092:9092')
    expect(compose.services.kafka.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false')
  })
})
