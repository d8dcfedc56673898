package omnistream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/** The Kafka Streams peer of the stock race: per-SKU on-hand with duplicate suppression, one output per input. */
public final class StockPeer {
    static final String STORE = "stock";
    static final int RECENT = 64;
    static final ObjectMapper JSON = new ObjectMapper();

    private StockPeer() {}

    public static void main(String[] argv) throws Exception {
        // Before any Kafka class asks slf4j for a logger: the race keeps stderr for failures only
        // (-Dorg.slf4j.simpleLogger.defaultLogLevel=info still wins, for a look at a slow start).
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        Map<String, String> args = parseArgs(argv);
        KafkaStreams streams = new KafkaStreams(topology(args), config(args));
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean failed = new AtomicBoolean(false);
        AtomicBoolean ready = new AtomicBoolean(false);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && ready.compareAndSet(false, true)) {
                System.out.println("READY");
                System.out.flush();
            }
            if (now == KafkaStreams.State.ERROR) {
                failed.set(true);
                done.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(error -> {
            error.printStackTrace();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(15));
            done.countDown();
        }, "stock-peer-shutdown"));
        streams.start();
        done.await();
        if (failed.get()) {
            System.exit(1);
        }
    }

    static Topology topology(Map<String, String> args) {
        StoreBuilder<KeyValueStore<String, String>> store = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.String())
            .withLoggingEnabled(Map.of());
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(store);
        builder.stream(args.get("input"), Consumed.with(Serdes.String(), Serdes.String()))
            .process(StockProcessor::new, STORE)
            .to(args.get("output"), Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    static Properties config(Map<String, String> args) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("application-id"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
        props.put(StreamsConfig.STATE_DIR_CONFIG, args.get("state-dir"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args.get("guarantee"));
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, args.getOrDefault("cache-bytes", "0"));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        // Unset, Kafka picks the guarantee's default: 100 ms for exactly_once_v2, 30 s for at_least_once.
        if (args.containsKey("commit-interval-ms")) {
            props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, args.get("commit-interval-ms"));
        }
        return props;
    }

    static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < argv.length; i += 2) {
            if (!argv[i].startsWith("--") || i + 1 == argv.length) {
                throw new IllegalArgumentException("expected --name value, got " + argv[i]);
            }
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        for (String name : new String[] {"bootstrap", "input", "output", "application-id", "state-dir", "guarantee"}) {
            if (!args.containsKey(name)) {
                throw new IllegalArgumentException("missing --" + name);
            }
        }
        return args;
    }

    /** The pure step: the new state and the output record for one movement, given the SKU's state. */
    static Step decide(ObjectNode state, JsonNode event) {
        String eventId = event.get("event_id").asText();
        ArrayNode recent = (ArrayNode) state.get("recent");
        boolean duplicate = false;
        for (JsonNode seen : recent) {
            duplicate |= seen.asText().equals(eventId);
        }
        ObjectNode next = state;
        if (!duplicate) {
            next = state.deepCopy();
            next.put("on_hand", state.get("on_hand").asLong() + event.get("delta").asLong());
            ArrayNode kept = (ArrayNode) next.get("recent");
            kept.add(eventId);
            while (kept.size() > RECENT) {
                kept.remove(0);
            }
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("event_id", eventId);
        out.set("sku", event.get("sku"));
        out.put("on_hand", next.get("on_hand").asLong());
        out.put("duplicate", duplicate);
        return new Step(next, out, duplicate);
    }

    record Step(ObjectNode state, ObjectNode output, boolean duplicate) {}

    static ObjectNode emptyState() {
        ObjectNode state = JSON.createObjectNode();
        state.put("on_hand", 0);
        state.putArray("recent");
        return state;
    }

    /** The thin adapter: read the SKU's state, decide, write it back (only when it changed), forward. */
    static final class StockProcessor implements Processor<String, String, String, String> {
        private ProcessorContext<String, String> context;
        private KeyValueStore<String, String> store;

        @Override
        public void init(ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, String> record) {
            try {
                String stored = store.get(record.key());
                ObjectNode state = stored == null ? emptyState() : (ObjectNode) JSON.readTree(stored);
                Step step = decide(state, JSON.readTree(record.value()));
                if (!step.duplicate()) {
                    store.put(record.key(), JSON.writeValueAsString(step.state()));
                }
                context.forward(record.withValue(JSON.writeValueAsString(step.output())));
            } catch (java.io.IOException error) {
                throw new IllegalStateException("bad record on " + record.key(), error);
            }
        }
    }
}
