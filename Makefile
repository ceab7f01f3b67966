# SPDX-License-Identifier: GPL-2.0
#
# kecpuhp: build the modules against a kernel tree (KDIR), or run the test
# bench. Kbuild reads ./Kbuild; this file is only the front door.
#
#   make [KDIR=/lib/modules/$(uname -r)/build] [W=1]   build the modules
#   make check                                       the full test run
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build

check:
	bash scripts/check.sh

.PHONY: all modules clean check

lint:
	bash scripts/lint.sh

.PHONY: lint
