# Omnistream application image: the faust worker, the DuckDB sink and the simulator (docker-compose.yml).
# Kafka itself runs from the apache/kafka image; this image only needs KAFKA_BOOTSTRAP to reach it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# openssl: `python -m broker secrets` makes the secured profile's certificates (docker-compose.yml).
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .

# Run unprivileged; the volume mount points are created here so new named volumes inherit the owner.
RUN useradd --create-home --uid 10001 omni \
    && mkdir -p /data/worker /data/duckdb \
    && chown -R omni:omni /data
USER omni

EXPOSE 6066 6070 6080
CMD ["faust", "-A", "app", "worker", "-l", "info"]
