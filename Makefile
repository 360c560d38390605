# wirelab: the front door. A fresh clone needs only `make test` and `make run-...`.
# Run targets take flags through ARGS, e.g.  make run-server ARGS="--port 3100 --drop 0.3"

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

# Pinned versions, stated here and nowhere else.
GSON_VERSION  := 2.13.2
# gson's own compile-time dependency; on the compile class path only, so that -Xlint:all
# can read the annotations on gson's classes.
ERRORPRONE_VERSION := 2.41.0
# The standalone console launcher bundles the junit-jupiter 5.14 engine.
JUNIT_VERSION := 1.14.1

# Finding the JDK (scripts/find-jdk.sh) takes a tenth of a second, so its answer is kept in
# build/jdk.mk for as long as JAVA_HOME stays what it was (after installing another JDK on the
# PATH, `make clean` finds it again).
-include build/jdk.mk
ifneq ($(JDK_FOUND_FOR),JAVA_HOME=$(JAVA_HOME))
  JDK := $(shell scripts/find-jdk.sh)
  ifeq ($(JDK),)
    $(error no JDK >= 21 found; see the message above)
  endif
  JDK_MAJOR := $(shell sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$(JDK)/release")
  $(shell mkdir -p build && printf 'JDK := %s\nJDK_MAJOR := %s\nJDK_FOUND_FOR := JAVA_HOME=%s\n' "$(JDK)" "$(JDK_MAJOR)" "$(JAVA_HOME)" > build/jdk.mk)
endif
JAVA  := $(JDK)/bin/java
JAVAC := $(JDK)/bin/javac
JAR_TOOL := $(JDK)/bin/jar

# How every run target and script starts the JVM, stated here once; scripts/common.sh reads
# the list from build/java-flags.
#   -XX:+UseSerialGC -Xms8m -Xmx512m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30
#       a small server: one collector thread, a heap that starts small, grows as far as the
#       load needs (512 MB at most, never a quarter of the machine) and gives memory back
#       after a full collection. Under 10,000 concurrent clients the default collector's heap
#       grew to 1.2-1.5 GB resident for 19 MB of live data (make bench: where the memory goes).
#   -XX:UserThreadWaitAttemptsAtExit=0 (JDK 22+)
#       at exit HotSpot waits up to 300 ms for threads still in native code: here, the JDK's
#       poller thread that parks virtual threads on sockets, which never leaves epoll_wait.
#       Those threads cannot touch the VM once it exits, so there is nothing to wait for.
RUN_FLAGS := -XX:+UseSerialGC -Xms8m -Xmx512m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 \
             -Djava.util.logging.config.file=$(abspath src/logging.properties)
ifneq ($(filter-out 21,$(JDK_MAJOR)),)
  RUN_FLAGS += -XX:UserThreadWaitAttemptsAtExit=0
endif
# And for one entry point alone, NAME_FLAGS (scripts read them from build/java-flags-NAME):
#   -XX:TieredStopAtLevel=1 (the client, add-transaction, the node)
#       compile with C1 only, never C2. The client and add-transaction end before C2's work
#       pays back, and ten nodes on a 2-core machine spent more CPU compiling the same code ten
#       times over than running it: 200 transactions through make network N=10 took 2.6 s and
#       5.5 s of CPU with C2, 2.0 s and 4.0 s with C1 only; 3,000 took 8.6 s and 6.0 s. The
#       server keeps C2: under 10,000 clients its C1 code allocated more (no escape analysis)
#       and peaked at 220-230 MB resident against 160-185 MB.
#   -XX:CompileThresholdScaling=0.1 (the node)
#       compile a method after a tenth of the usual calls. A C1 compile is cheap, and a node's
#       first burst of gossip otherwise runs in the interpreter: 200 transactions as above took
#       3.1 s of CPU instead of 3.9 s. The client ran slower with it (it compiles code it runs
#       only a few times), so only the node has it.
#   -Djdk.virtualThreadScheduler.parallelism=1 (the node)
#       run the node's virtual threads on one carrier thread, as Node runs its one event loop.
#       A node's work per message is small and mostly system calls; with a carrier per core
#       the two carriers kept waking each other (futex, a context switch each), which on this
#       virtual machine cost more than the second core gave. 200 transactions as above: 1.4 s
#       -> 0.8 s; 1,000: 2.7 s -> 1.7 s; a WebSocket echo server under a Node ws client went
#       from 0.75x to 1.0x ws's own. The exchange server's figures did not move either way, so
#       it keeps the default. JDK 24+ only: before JEP 491 a virtual thread that blocks inside
#       a synchronized block (catch-up steps, and code inside the JDK) holds on to its carrier,
#       and with just one carrier that would stall the whole node.
ExchangeServer_FLAGS :=
ExchangeClient_FLAGS := -XX:TieredStopAtLevel=1
AddTransaction_FLAGS := -XX:TieredStopAtLevel=1
PeerNode_FLAGS       := -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.1
ifneq ($(filter-out 21 22 23,$(JDK_MAJOR)),)
  PeerNode_FLAGS += -Djdk.virtualThreadScheduler.parallelism=1
endif
MAINS := ExchangeServer ExchangeClient AddTransaction PeerNode
# MAIN's start-up cache, when the training made one: see startup-cache below.
startup_cache = $(if $(wildcard build/startup/$(1).aot),-XX:AOTCache=build/startup/$(1).aot -Xlog:aot=off -Xlog:cds=off,$(if $(wildcard build/startup/$(1).jsa),-XX:SharedArchiveFile=build/startup/$(1).jsa -Xlog:cds=off))
# $(call java_command,NAME): the JVM that runs entry point NAME, as scripts/common.sh's
# java_command builds it for the scripts: the run flags, NAME's own flags, its cache.
java_command = $(JAVA) $(RUN_FLAGS) $($(1)_FLAGS) $(call startup_cache,$(1)) -cp $(RUN_CP)

LIB        := lib
GSON_JAR   := $(LIB)/gson-$(GSON_VERSION).jar
JUNIT_JAR  := $(LIB)/junit-platform-console-standalone-$(JUNIT_VERSION).jar
ERRORPRONE_JAR := $(LIB)/error_prone_annotations-$(ERRORPRONE_VERSION).jar
CLASSES    := build/classes
TEST_CLASSES := build/test-classes
# The classes in a jar: class-data sharing and the AOT cache only take classes from jars.
JAR          := build/wirelab.jar
# The layout is two levels deep (wirelab/, wirelab/<package>/), so make lists it without a find.
SOURCES      := $(wildcard src/wirelab/*.java src/wirelab/*/*.java)
RESOURCES    := $(wildcard src/wirelab/*/*.html)
TEST_SOURCES := $(wildcard test/wirelab/*.java test/wirelab/*/*.java)
RUN_CP       := $(abspath $(JAR)):$(abspath $(GSON_JAR))
JAVAC_FLAGS  := --release 21 -Xlint:all -Werror -encoding UTF-8

ARGS ?=
N ?= 3
NODE ?= node-1

.PHONY: build startup-cache test run-server run-client demo bench run-node network stop-network hosts-network stop-hosts-network clean

build: $(CLASSES)/.built build/java-flags

# The start-up cache: one per entry point, made by running it once for real (see the script).
# A JDK that cannot make one, or a run that fails, leaves none, and the runs go on without it.
startup-cache: build/startup/.built

build/startup/.built: $(CLASSES)/.built build/java-flags scripts/train-startup-cache.sh
	@scripts/train-startup-cache.sh $(JDK_MAJOR)
	@touch $@

build/java-flags: Makefile
	@mkdir -p build
	@printf '%s\n' $(JAVA) $(RUN_FLAGS) -cp $(RUN_CP) > $@
	@rm -f build/java-flags-*
	@$(foreach main,$(MAINS),$(if $($(main)_FLAGS),printf '%s\n' $($(main)_FLAGS) > build/java-flags-$(main);))

# Maven, quiet and in batch mode; Maven 3.8 still writes colour resets (ESC[0m) into a log that
# is not a terminal, so they are taken out. pipefail keeps Maven's own exit status.
MAVEN_COPY = mvn -q -B -Dstyle.color=never dependency:copy -DoutputDirectory=$(LIB) -Dartifact=$(1) 2>&1 | sed 's/\x1b\[[0-9;]*m//g'

$(GSON_JAR):
	mkdir -p $(LIB)
	$(call MAVEN_COPY,com.google.code.gson:gson:$(GSON_VERSION))

$(ERRORPRONE_JAR):
	mkdir -p $(LIB)
	$(call MAVEN_COPY,com.google.errorprone:error_prone_annotations:$(ERRORPRONE_VERSION))

$(JUNIT_JAR):
	mkdir -p $(LIB)
	$(call MAVEN_COPY,org.junit.platform:junit-platform-console-standalone:$(JUNIT_VERSION))

$(CLASSES)/.built: $(SOURCES) $(RESOURCES) $(GSON_JAR) $(ERRORPRONE_JAR)
	rm -rf $(CLASSES) && mkdir -p $(CLASSES)
	$(JAVAC) $(JAVAC_FLAGS) -cp $(GSON_JAR):$(ERRORPRONE_JAR) -d $(CLASSES) $(SOURCES)
	for f in $(RESOURCES:src/%=%); do mkdir -p "$(CLASSES)/$${f%/*}" && cp "src/$$f" "$(CLASSES)/$$f"; done
	$(JAR_TOOL) --create --file $(JAR) -C $(CLASSES) .
	echo "$(RUN_CP)" > build/classpath
	touch $@

$(TEST_CLASSES)/.built: $(CLASSES)/.built $(TEST_SOURCES) $(JUNIT_JAR)
	rm -rf $(TEST_CLASSES) && mkdir -p $(TEST_CLASSES)
	$(JAVAC) $(JAVAC_FLAGS) -cp $(RUN_CP):$(ERRORPRONE_JAR):$(JUNIT_JAR) -d $(TEST_CLASSES) $(TEST_SOURCES)
	touch $@

# Runs every test; logs go to build/test.log. The last line is the summary CI reads. Each test
# runs on a thread of its own, so one that overruns its @Timeout in a call that ignores
# interrupts is abandoned and failed, and the run goes on.
# The start-up cache first: tests start node processes through the scripts, which would
# otherwise train it in the middle of a test.
test: $(TEST_CLASSES)/.built startup-cache
	@rm -f build/test.log
	@$(JAVA) -Djava.util.logging.config.file=test/logging.properties -jar $(JUNIT_JAR) execute \
	    --disable-banner --disable-ansi-colors --details=tree --class-path $(RUN_CP):$(TEST_CLASSES) \
	    --config junit.jupiter.execution.timeout.thread.mode.default=SEPARATE_THREAD \
	    --scan-class-path $(TEST_CLASSES) 2>&1 | tee build/test-output.txt; status=$$?; \
	  if [ $$status -ne 0 ] && [ -f build/test.log ]; then echo "--- last lines of build/test.log"; tail -n 60 build/test.log; fi; \
	  awk '/tests successful/ {gsub(/[][]/, ""); passed = $$1} \
	       /tests failed|containers failed/ {gsub(/[][]/, ""); failed += $$1} \
	       END {printf "tests: %d passed, %d failed\n", passed, failed}' build/test-output.txt; \
	  exit $$status

run-server: build startup-cache
	@$(call java_command,ExchangeServer) wirelab.exchange.ExchangeServer $(ARGS)

run-client: build startup-cache
	@$(call java_command,ExchangeClient) wirelab.exchange.ExchangeClient $(ARGS)

demo: build
	scripts/demo.sh

bench: $(TEST_CLASSES)/.built
	$(JAVA) -Xmx4g -Djava.util.logging.config.file=test/wirelab/bench/logging.properties -cp $(RUN_CP):$(TEST_CLASSES) wirelab.bench.Bench $(ARGS)

run-node: build startup-cache
	scripts/run-node.sh $(NODE) $(ARGS)

network: build startup-cache
	scripts/network.sh start $(N)

stop-network:
	scripts/network.sh stop

# N hosts on this machine (network namespaces, 198.18.0.1..N), one node each; needs root and ip.
hosts-network: build
	scripts/hosts-network.sh up $(N)

stop-hosts-network:
	scripts/hosts-network.sh down

clean:
	rm -rf build
