# The release image. goreleaser (dockers_v2 in .goreleaser.yaml) builds it
# from the released linux binaries; it compiles nothing. The build context
# holds linux/<arch>/tokensync and the build machine's CA bundle.
FROM scratch
ARG TARGETPLATFORM
COPY etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY $TARGETPLATFORM/tokensync /usr/local/bin/tokensync
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["tokensync"]
