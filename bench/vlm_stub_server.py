#!/usr/bin/python3
"""A stand-in vision-language server for the filter benchmark: OpenAI-compatible POST /v1/chat/completions that
waits a fixed latency (the model's time per image) and answers "High Quality". Threaded, so concurrent requests
overlap as they do on vLLM or SGLang with batching.
    /usr/bin/python3 bench/vlm_stub_server.py PORT LATENCY_SECONDS
"""
import http.server
import json
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as uvicorn and other model servers do; else delayed ACKs stall keep-alive

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        assert request["messages"][1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
        time.sleep(LATENCY)
        out = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "High Quality"},
                                       "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    LATENCY = float(sys.argv[2])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
