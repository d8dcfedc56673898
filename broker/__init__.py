"""Local Kafka broker launcher: `ensure_broker()` for code and tests, `python -m broker` for people.

Environment (defaults in brackets; details in docs/broker.md):
  KAFKA_BOOTSTRAP             [unset] existing cluster to use; when set nothing is started or stopped
  OMNI_KAFKA_PORT             [9092] client port of the local broker on 127.0.0.1
  OMNI_KAFKA_CONTROLLER_PORT  [OMNI_KAFKA_PORT + nodes] KRaft controller port (node i: + i - 1)
  OMNI_KAFKA_HOME             [<repo>/.cache/kafka] jars go to <home>/<version>/libs
  OMNI_KAFKA_DATA             [<repo>/.run/kafka; .run/kafka-<port> off 9092] log dirs, pidfile, broker.log
  OMNI_KAFKA_HEAP             [1g] JVM max heap (-Xmx)
  OMNI_KAFKA_NODES            [1] 3: a local three-node cluster (like --nodes 3; docs/broker.md)
  OMNI_KAFKA_SECURE           [0] 1: SASL_SSL + SCRAM users + ACLs, secrets in <data>/secrets (like --secure)
The Kafka version is the <kafka.version> property in broker/pom.xml.
"""

from broker.launcher import (
    Broker,
    BrokerStatus,
    broker_status,
    ensure_broker,
    stop_broker,
    wait_until_ready,
)

__all__ = [
    "Broker",
    "BrokerStatus",
    "broker_status",
    "ensure_broker",
    "stop_broker",
    "wait_until_ready",
]
