"""Benchmark of the local event source mapping on DynamoDB Local.

Measures, with an empty handler:

* end-to-end throughput: records per second from the first write to the last record handled,
  with the runner reading while the writes happen;
* drain throughput: records per second reading a stream that already holds the records;
* CPU per record of the runner beside a bare GetRecords loop over the same records, in the same
  process (``time.process_time``, all threads). Goal: runner / bare <= 1.5.

Run: ``.venv/bin/python bench/runner.py [--records 5000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from ddbstream.runner import EventSourceMapping, Runner
from ddbstream.testing._local import DynamoDBLocal


def empty_handler(event: Any, context: Any) -> None:
    return None


def make_table(client: Any, name: str) -> str:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return str(arn)


def write(client: Any, table: str, n: int) -> None:
    for start in range(0, n, 25):
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"item-{i:07d}"},
                        "amount": {"N": str(i)},
                        "name": {"S": "x" * 40},
                        "tags": {"SS": ["a", "b"]},
                    }
                }
            }
            for i in range(start, min(n, start + 25))
        ]
        client.batch_write_item(RequestItems={table: items})


def bare_loop(streams: Any, stream_arn: str) -> int:
    """The least a consumer must do: page the shards and GetRecords until caught up."""
    count = 0
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            out = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = out["Records"]
            count += len(records)
            if not records:
                break
            iterator = out.get("NextShardIterator")
    return count


def runner_drain(server: Any, streams: Any, stream_arn: str, batch_size: int) -> int:
    runner = Runner(
        empty_handler,
        stream_arn=stream_arn,
        streams_client=streams,
        mapping=EventSourceMapping(batch_size=batch_size),
        poll_interval=0.25,
    )
    return runner.run(until_idle=True).records_succeeded


def end_to_end(server: Any, client: Any, streams: Any, n: int) -> float:
    stream_arn = make_table(client, "bench_e2e")
    runner = Runner(
        empty_handler,
        stream_arn=stream_arn,
        streams_client=streams,
        mapping=EventSourceMapping(batch_size=1000),
        poll_interval=0.05,
    )
    thread = threading.Thread(target=runner.run)
    thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    write(client, "bench_e2e", n)
    while runner.stats.records_succeeded < n:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    runner.stop()
    thread.join()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.records
    with DynamoDBLocal() as server:
        client, streams = server.client(), server.streams_client()
        stream_arn = make_table(client, "bench_cpu")
        t0 = time.perf_counter()
        write(client, "bench_cpu", n)
        write_rate = n / (time.perf_counter() - t0)
        bare_loop(streams, stream_arn)  # warm up connections and botocore caches
        bare, ran, wall = [], [], []
        for _ in range(args.repeat):
            c0 = time.process_time()
            assert bare_loop(streams, stream_arn) == n
            bare.append(time.process_time() - c0)
            c0, w0 = time.process_time(), time.perf_counter()
            assert runner_drain(server, streams, stream_arn, 1000) == n
            ran.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        e2e = end_to_end(server, client, streams, n)
    b, r = min(bare), min(ran)
    print(
        f"records: {n} (4 attributes, NEW_AND_OLD_IMAGES); "
        f"DynamoDB Local write rate {write_rate:.0f}/s"
    )
    print(f"end to end (write -> handled, empty handler): {e2e:.0f} records/s")
    print(f"drain (already in the stream), runner: {n / min(wall):.0f} records/s")
    print(f"CPU per record: bare GetRecords loop {b / n * 1e6:.1f} us, runner {r / n * 1e6:.1f} us")
    print(f"runner / bare CPU: {r / b:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
