# The kafkaredis CLI in a container, for the compose `canary` service (kafkaredis timer
# with /metrics and /healthz on 9404). The Python packages are uv.lock's, exactly
# (versions and hashes), as scripts/setup installs them.
#   docker build -t kafkaredis .
#   docker run --rm kafkaredis --help
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.9
COPY pyproject.toml uv.lock README.md LICENSE ./
COPY kafkaredis_cli ./kafkaredis_cli
RUN uv export --frozen --no-dev --no-emit-project --format requirements-txt -o /tmp/requirements.txt \
    && python -m venv /opt/kafkaredis \
    && /opt/kafkaredis/bin/pip install --no-cache-dir --disable-pip-version-check \
        --require-hashes -r /tmp/requirements.txt \
    && /opt/kafkaredis/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps .

FROM python:3.11.11-slim-bookworm
COPY --from=build /opt/kafkaredis /opt/kafkaredis
ENV PATH=/opt/kafkaredis/bin:$PATH \
    PYTHONUNBUFFERED=1
USER 65534:65534
EXPOSE 9404
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9404/healthz', timeout=4)"]
ENTRYPOINT ["kafkaredis"]
CMD ["timer", "--interval", "5", "--metrics-port", "9404", "--metrics-host", "0.0.0.0"]
