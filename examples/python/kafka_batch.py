"""Post caption jobs to Kafka and collect their results, with nothing but the .proto files (see README.md here).

    python3 kafka_batch.py --stubs GEN --bootstrap 127.0.0.1:9092 --out OUT "a small red circle" "a green triangle" [--seed 7]

Follows the contract at the top of dalle/v1/events.proto: reach the end of generation-results (read_committed)
before producing, key each GenerationRequest by its request id, keep only the results keyed by our ids. Writes
OUT/<request id>-top-<rank>.png, prints one line per image, and exits 1 if any job failed.
"""
import argparse
import os
import sys
import time
import uuid


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("captions", nargs="+")
    p.add_argument("--stubs", required=True, help="the folder protoc --python_out wrote (holds dalle/v1/*_pb2.py)")
    p.add_argument("--bootstrap", default="127.0.0.1:9092")
    p.add_argument("--out", default="out-python")
    p.add_argument("--candidates", type=int, default=8)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--seed", type=int)
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for all results")
    a = p.parse_args()
    sys.path.insert(0, a.stubs)
    from confluent_kafka import Consumer, Producer, TopicPartition
    from dalle.v1 import common_pb2, events_pb2

    # 1. Reach the end of generation-results before producing, so no fast result is missed.
    results = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "kafka-batch-" + uuid.uuid4().hex,
                        "enable.auto.commit": False, "isolation.level": "read_committed"})
    topic = results.list_topics("generation-results", timeout=30).topics["generation-results"]
    if topic.error is not None:
        sys.exit(f"kafka_batch: generation-results: {topic.error}")
    ends = []
    for partition in topic.partitions:
        _, high = results.get_watermark_offsets(TopicPartition("generation-results", partition), timeout=30)
        ends.append(TopicPartition("generation-results", partition, high))
    results.assign(ends)

    # 2. One GenerationRequest per caption, keyed by its request id.
    producer = Producer({"bootstrap.servers": a.bootstrap, "acks": "all", "enable.idempotence": True})
    pending = {}
    for i, caption in enumerate(a.captions):
        request_id = f"py-{uuid.uuid4().hex[:12]}-{i}"
        request = events_pb2.GenerationRequest(request_id=request_id, caption=caption, candidates=a.candidates,
                                               top_k=a.top_k, submitted_at_ms=int(time.time() * 1000))
        if a.seed is not None:
            request.seed = a.seed
        producer.produce("generation-requests", key=request_id.encode(), value=request.SerializeToString())
        pending[request_id] = caption
    if producer.flush(30) != 0:
        sys.exit("kafka_batch: the broker did not acknowledge the requests within 30 s")
    print(f"queued {len(pending)} request(s) on generation-requests", flush=True)

    # 3. Our results only, each once.
    os.makedirs(a.out, exist_ok=True)
    failed = 0
    deadline = time.time() + a.timeout
    while pending and time.time() < deadline:
        message = results.poll(1.0)
        if message is None or message.error() or message.key() is None:
            continue
        request_id = message.key().decode()
        if request_id not in pending:
            continue
        result = events_pb2.GenerationResult.FromString(message.value())
        caption = pending.pop(request_id)
        if result.HasField("error"):
            failed += 1
            print(f"{request_id} FAILED {common_pb2.ErrorCode.Name(result.error.code)}: {result.error.message}")
            continue
        print(f"{request_id} seed {result.seed} bundle {result.bundle_version} \"{caption}\"")
        for image in result.images:
            path = os.path.join(a.out, f"{request_id}-top-{image.rank}.png")
            with open(path, "wb") as f:
                f.write(image.image.png)
            print(f"{image.rank} {image.candidate_index} {image.score:.4f} {path}")
    results.close()
    if pending:
        sys.exit(f"kafka_batch: no result within {a.timeout:.0f} s for {', '.join(sorted(pending))}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
