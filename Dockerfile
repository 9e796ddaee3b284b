# Image for web (ASGI), worker and beat. Used by docker-compose.yml on servers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Production by default: the settings refuse to start without a real SECRET_KEY, and a
# debug page never reaches a citizen because somebody forgot DEBUG=false.
ENV DEBUG=false
WORKDIR /app

RUN useradd --create-home --uid 1000 helpdesk
# Exact versions, each file checked against its hash (`make lock` writes the file).
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY . .
RUN python bin/compile-messages \
    && DEBUG=false SECRET_KEY=build-only-collectstatic-not-a-secret-0123456789 python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R helpdesk /app/var

USER helpdesk
EXPOSE 8000
# helpdesk.serve is daphne without query strings in its access log and without
# --proxy-headers; behind a proxy set TRUSTED_PROXIES.
CMD ["python", "-m", "helpdesk.serve", "-b", "0.0.0.0", "-p", "8000", "helpdesk.asgi:application"]
