# One image for the API and the workers.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-microhei libgl1 libglib2.0-0 libpango-1.0-0 libpangoft2-1.0-0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY intake intake
COPY extractors extractors
COPY validators validators
COPY worker worker
RUN pip install --no-cache-dir .
ENV INTAKE_DATA_DIR=/data OMP_THREAD_LIMIT=1
VOLUME /data
EXPOSE 8000
CMD ["intake", "serve", "--host", "0.0.0.0", "--port", "8000"]
