"""A loopback HTTP server for download tests: serves one body, honours Range, can cut once."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.ranges.append(self.headers.get("Range"))
        body, start = server.body, 0
        asked = self.headers.get("Range")
        if asked and server.honour_range:
            start = int(asked.removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        end = len(body) if server.cut_after is None else start + server.cut_after
        server.cut_after = None  # only the one response is cut
        try:
            self.wfile.write(body[start:end])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: a stop or a cancel under test
        self.close_connection = True

    def log_message(self, *args):
        pass


@contextmanager
def serving(body: bytes) -> Iterator[ThreadingHTTPServer]:
    """A server on 127.0.0.1 for ``body``: ``.url``, ``.ranges`` asked, ``.cut_after`` once."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.body, httpd.cut_after, httpd.honour_range, httpd.ranges = body, None, True, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/vgg19-dcbb9e9d.pth"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
