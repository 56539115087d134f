# localhost/distroless-cc:12: the C and C++ runtime libraries on an empty image, like
# gcr.io/distroless/cc-debian12, enough for Node's official binary.
FROM localhost/debian:bookworm AS debian
RUN mkdir -p /rootfs/lib/x86_64-linux-gnu /rootfs/lib64 /rootfs/etc /rootfs/tmp \
  && chmod 1777 /rootfs/tmp \
  && for lib in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 libgcc_s.so.1 libstdc++.so.6; do \
       cp -L "/lib/x86_64-linux-gnu/$lib" /rootfs/lib/x86_64-linux-gnu/; done \
  && cp -L /lib64/ld-linux-x86-64.so.2 /rootfs/lib64/ \
  && cp /etc/passwd /etc/group /etc/nsswitch.conf /rootfs/etc/

FROM scratch
COPY --from=debian /rootfs /
