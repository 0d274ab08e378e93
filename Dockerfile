# The hybridlab dashboard with a CPU build of PyTorch.
#   docker build -t hybridlab .
#   docker run --rm -p 5006:5006 -e HYBRIDLAB_WEBSOCKET_ORIGIN=localhost:5006 hybridlab
# then open http://localhost:5006/app. Behind a proxy or on a server, set HYBRIDLAB_WEBSOCKET_ORIGIN
# to the host[:port] people type into their browser (comma-separated for several).
# The CLI is in the image too:  docker run --rm hybridlab hybridlab experiment soc --out /tmp/soc
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 HYBRIDLAB_CACHE=/var/cache/hybridlab \
    HYBRIDLAB_WEBSOCKET_ORIGIN=localhost:5006
WORKDIR /opt/hybridlab
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY core ./core
COPY app ./app
COPY data ./data
RUN pip install . && useradd --create-home --uid 10001 hybridlab && mkdir -p /var/cache/hybridlab \
    && chown hybridlab /var/cache/hybridlab
# the server and the CLI run as an unprivileged user, never as root
USER hybridlab
RUN python -c "from core.datasets import load_data; load_data('lucas-synthetic')"
EXPOSE 5006
CMD ["sh", "-c", "hybridlab serve --address 0.0.0.0 --port 5006 --allow-websocket-origin \"$HYBRIDLAB_WEBSOCKET_ORIGIN\""]
