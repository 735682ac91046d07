FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Pango and a font for WeasyPrint, which renders the PDF score report.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY ccs_sim ccs_sim
COPY questionbank questionbank
COPY exams exams
COPY scoring scoring
COPY cohorts cohorts
COPY codebook codebook
RUN pip install --no-cache-dir .
COPY . .
# Static files are collected at build time and served by WhiteNoise from gunicorn.
RUN DEBUG=0 SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "ccs_sim.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
