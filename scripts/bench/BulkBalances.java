// Fills a bench topic with balances in the topic's own format (key = cliente_id, value = the Balance
// JSON with the same cliente_id), as fast as the broker takes them. The kafkajs bulk producer sends
// about 100k records/s on this machine; the Java client, a few times that, which matters for the
// 10M-record topics. Run with the broker's jars (Java's single-file launch, no build step):
//   scripts/kafka.sh run-class scripts/bench/BulkBalances.java BOOTSTRAP TOPIC COUNT KEYS
// Record i goes to cliente_id (i mod KEYS) + 1, like saldo-produce --count; prints "records bytes ms"
// where bytes sums keys and values (what ConsumerPerformance counts).
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class BulkBalances {
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: BulkBalances BOOTSTRAP TOPIC COUNT KEYS");
      System.exit(2);
    }
    String topic = args[1];
    long count = Long.parseLong(args[2]);
    long keys = Long.parseLong(args[3]);
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(1 << 20));
    props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(256L << 20));
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    AtomicReference<Exception> failure = new AtomicReference<>();
    long bytes = 0;
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      String timestamp = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
      for (long i = 0; i < count && failure.get() == null; i++) {
        String id = Long.toString(i % keys + 1);
        byte[] key = id.getBytes(StandardCharsets.UTF_8);
        byte[] value = ("{\"cliente_id\":\"" + id + "\",\"saldo\":" + saldo() + ",\"timestamp\":\"" + timestamp + "\"}")
            .getBytes(StandardCharsets.UTF_8);
        bytes += key.length + value.length;
        producer.send(new ProducerRecord<>(topic, key, value), (meta, error) -> {
          if (error != null) failure.compareAndSet(null, error);
        });
      }
      producer.flush();
    }
    if (failure.get() != null) throw failure.get();
    System.out.println(count + " " + bytes + " " + (System.nanoTime() - started) / 1_000_000);
  }

  /** A random amount with up to two decimals, written as JavaScript's JSON.stringify writes it. */
  private static String saldo() {
    long cents = ThreadLocalRandom.current().nextLong(1_000_000_000L);
    long units = cents / 100, rest = cents % 100;
    if (rest == 0) return Long.toString(units);
    return units + (rest % 10 == 0 ? "." + rest / 10 : (rest < 10 ? ".0" : ".") + rest);
  }
}
