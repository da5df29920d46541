# Pregón: one static binary on a small Debian image.
#   docker build -t pregon .
#   docker run --rm -e PREGON_REDIS_URL=redis://redis:6379/0 pregon          # serve
#   docker run --rm ... pregon token create --name admin --role admin

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/pregon ./cmd/pregon

FROM debian:bookworm-slim
# ca-certificates for SMTP over TLS and the Telegram Bot API; curl for the
# API's health check (GET /readyz; see docker-compose.yml).
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates curl \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --home-dir /var/lib/pregon --create-home --shell /usr/sbin/nologin pregon \
	&& install -d -o pregon -g pregon /var/lib/pregon/outbox
COPY --from=build /out/pregon /usr/local/bin/pregon
USER pregon
WORKDIR /var/lib/pregon
ENV PREGON_HTTP_ADDR=0.0.0.0:8080 \
	PREGON_OUTBOX_DIR=/var/lib/pregon/outbox
EXPOSE 8080
ENTRYPOINT ["pregon"]
CMD ["serve"]
