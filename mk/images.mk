# Debian guest images (Linux, busybox initramfs, U-Boot), fetched once into
# cache/ by tools/fetch-images.py; later runs are offline. See
# docs/guest-images.md.
.PHONY: images
images:
	@$(PYTHON) tools/fetch-images.py --arch riscv64
	@$(PYTHON) tools/fetch-images.py --arch amd64

TEST_EXTRA += images
