# SPDX-License-Identifier: GPL-2.0
#
# kecpuhp: build the modules against a kernel tree (KDIR), or run the test
# bench. Kbuild reads ./Kbuild; this file is only the front door.
#
#   make [KDIR=/lib/modules/$(uname -r)/build] [W=1]   build the modules
#   make shim                                        only kecpuhp.ko (DKMS)
#   make install / uninstall [DESTDIR=]              module, headers, symvers
#   make demo                                        see it work, narrated
#   make check                                       the full test run
#   make lint                                        style and static checks
#   make deb                                         kecpuhp-dkms .deb in build/deb
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
KRELEASE = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)
# Where a ported driver's Kbuild finds kecpuhp: $(KECPUHP_PREFIX)/include and
# $(KECPUHP_PREFIX)/<kernel release>/Module.symvers.
KECPUHP_PREFIX ?= /usr/src/kecpuhp

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build

shim:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/shim modules

clean-shim:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/shim clean

install: shim
	$(MAKE) -C $(KDIR) M=$(CURDIR)/shim INSTALL_MOD_DIR=updates modules_install
	install -d $(DESTDIR)$(KECPUHP_PREFIX)/include/kecpuhp $(DESTDIR)$(KECPUHP_PREFIX)/$(KRELEASE)
	install -m 0644 include/kecpuhp/*.h $(DESTDIR)$(KECPUHP_PREFIX)/include/kecpuhp/
	install -m 0644 shim/Module.symvers $(DESTDIR)$(KECPUHP_PREFIX)/$(KRELEASE)/Module.symvers
	[ -n "$(DESTDIR)$(INSTALL_MOD_PATH)" ] || depmod -a $(KRELEASE)

uninstall:
	rm -f $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/updates/kecpuhp.ko*
	rm -rf $(DESTDIR)$(KECPUHP_PREFIX)/$(KRELEASE)
	rm -rf $(DESTDIR)$(KECPUHP_PREFIX)/include
	-rmdir $(DESTDIR)$(KECPUHP_PREFIX) 2>/dev/null
	[ -n "$(DESTDIR)$(INSTALL_MOD_PATH)" ] || depmod -a $(KRELEASE)

demo:
	bash scripts/demo.sh

check:
	bash scripts/check.sh

bench:
	bash scripts/bench.sh

# Processor group 1 end to end: 64 CPUs online, a 65th hot-added (~2 min).
check-groups:
	bash scripts/groups.sh

# The stress scenario alone, for DURATION seconds, on the 6.12 test kernel.
DURATION ?= 600
soak:
	KVERS=6.12 BOOTS=robustness STRESS_SECONDS=$(DURATION) bash scripts/check.sh

.PHONY: all modules clean demo check check-groups soak bench shim clean-shim install uninstall

lint:
	bash scripts/lint.sh

# kecpuhp-dkms_<version>_all.deb in build/deb/, checked with lintian.
deb:
	bash scripts/deb.sh

.PHONY: lint deb
