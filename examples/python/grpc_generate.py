"""Generate images over gRPC with nothing but the .proto files (see README.md here).

    python3 grpc_generate.py --stubs GEN --target localhost:8090 --out OUT "a small red circle" [--candidates 8 --top-k 2 --seed 7]

Writes OUT/grpc-top-<rank>.png and prints one line per image: rank, candidate index, score, file.
"""
import argparse
import os
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("caption")
    p.add_argument("--stubs", required=True, help="the folder protoc --python_out wrote (holds dalle/v1/*_pb2.py)")
    p.add_argument("--target", default="localhost:8090", help="the gateway's gRPC address")
    p.add_argument("--api-key", default=os.environ.get("DALLE_API_KEY"), help="default: $DALLE_API_KEY")
    p.add_argument("--out", default="out-python")
    p.add_argument("--candidates", type=int, default=8)
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--seed", type=int)
    a = p.parse_args()
    if not a.api_key:
        sys.exit("grpc_generate: no API key: pass --api-key or set DALLE_API_KEY (dalle up wrote .dalle/run/api-key)")
    sys.path.insert(0, a.stubs)
    import grpc
    from dalle.v1 import gateway_pb2

    # A plain unary call by its full method name: the messages come from protoc --python_out alone, so any
    # protoc and grpcio will do (no generated service stub needed).
    channel = grpc.insecure_channel(a.target)
    generate = channel.unary_unary("/dalle.v1.Gateway/Generate",
                                   request_serializer=gateway_pb2.GenerateRequest.SerializeToString,
                                   response_deserializer=gateway_pb2.GenerateResponse.FromString)
    request = gateway_pb2.GenerateRequest(caption=a.caption, candidates=a.candidates, top_k=a.top_k)
    if a.seed is not None:
        request.seed = a.seed
    try:
        response = generate(request, metadata=[("authorization", "Bearer " + a.api_key)], timeout=120)
    except grpc.RpcError as e:
        sys.exit(f"grpc_generate: {e.code().name}: {e.details()}")
    os.makedirs(a.out, exist_ok=True)
    print(f"request {response.request_id} seed {response.seed} bundle {response.model.bundle_version} "
          f"{response.timings.total_ms} ms")
    for image in response.images:
        path = os.path.join(a.out, f"grpc-top-{image.rank}.png")
        with open(path, "wb") as f:
            f.write(image.image.png)
        print(f"{image.rank} {image.candidate_index} {image.score:.4f} {path}")


if __name__ == "__main__":
    main()
