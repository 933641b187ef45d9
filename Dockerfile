# pactstub as a service: `pactstub serve` on port 5000, as an unprivileged user, with the
# repository's pacts and templates baked in under /srv/pactstub (mount your own over them).
#
# BASE is any image with Python 3.11 or newer and its venv module; it is an argument so that
# a machine without a registry can build on a local image (Debian's python3-venv is enough).
ARG BASE=docker.io/library/python:3.12-slim-bookworm

FROM ${BASE} AS build
COPY . /src
RUN python3 -m venv /opt/pactstub \
    && /opt/pactstub/bin/pip install --no-cache-dir /src

FROM ${BASE}
COPY --from=build /opt/pactstub /opt/pactstub
COPY pacts /srv/pactstub/pacts
COPY templates /srv/pactstub/templates
# The only place the service writes: the default SQLite store (unused with PostgreSQL).
RUN mkdir -p /var/lib/pactstub && chown 10001:10001 /var/lib/pactstub
# DATABASE_URL rather than PACTSTUB_DATABASE_URL, so that a user's setting of either wins.
ENV PATH=/opt/pactstub/bin:$PATH \
    PACTSTUB_HOST=0.0.0.0 \
    PACTSTUB_PORT=5000 \
    PACTSTUB_PACT_DIR=/srv/pactstub/pacts \
    PACTSTUB_TEMPLATES=/srv/pactstub/templates \
    DATABASE_URL=sqlite:////var/lib/pactstub/pactstub.sqlite3
WORKDIR /srv/pactstub
USER 10001:10001
EXPOSE 5000
# The image has no curl; Python's standard library asks the same question.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD python3 -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ['PACTSTUB_PORT'] + '/health', timeout=2)"
ENTRYPOINT ["pactstub"]
CMD ["serve"]
