# hybridlab with a CPU build of PyTorch.
#   docker build -t hybridlab .
#   docker run --rm -v "$PWD/runs:/work/runs" hybridlab train --model respiration --out /work/runs/respiration
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /opt/hybridlab
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY core ./core
COPY data ./data
RUN pip install .
WORKDIR /work
ENTRYPOINT ["hybridlab"]
CMD ["--help"]
