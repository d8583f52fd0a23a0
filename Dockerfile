# One image for the API and the workers. They run as the unprivileged user `intake`
# (uid 10001), never root; the file store volume /data belongs to it.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-microhei libgl1 libglib2.0-0 libpango-1.0-0 libpangoft2-1.0-0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
# The locked versions (each file's sha256 checked), then the project on top without resolving.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY intake intake
COPY extractors extractors
COPY validators validators
COPY worker worker
RUN pip install --no-cache-dir --no-deps .
# The code stays root's (read-only to the service); only /data and the user's home (font
# cache) are writable by it. /data is made before VOLUME, so a new volume starts owned by
# `intake`; a volume from an image that ran as root needs a chown once (README).
RUN groupadd --system --gid 10001 intake \
 && useradd --system --uid 10001 --gid intake --create-home --home-dir /home/intake --shell /usr/sbin/nologin intake \
 && mkdir -p /data \
 && chown intake:intake /data
ENV INTAKE_DATA_DIR=/data OMP_THREAD_LIMIT=1
USER intake:intake
VOLUME /data
EXPOSE 8000
CMD ["intake", "serve", "--host", "0.0.0.0", "--port", "8000"]
