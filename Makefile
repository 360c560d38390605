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
# the list from build/java-flags. Why each flag is there, with the figures behind it:
# test/wirelab/bench/README.md ("Why each JVM flag is there").
#   -Xms8m -Xmx512m -XX:Min/MaxHeapFreeRatio                  a small heap that grows as the load needs, and shrinks back
#   -XX:StringTableSize=4096                                  the interned-string table starts small (it grows as needed)
#   -XX:UserThreadWaitAttemptsAtExit=0 (JDK 22+)              no 300 ms wait at exit for the socket poller thread
#   -XX:TrimNativeHeapInterval=1000 (JDK 22+)                 malloc's freed memory (the compilers' arenas) back to the OS each second
RUN_FLAGS := -Xms8m -Xmx512m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:StringTableSize=4096 \
             -Djava.util.logging.config.file=$(abspath src/logging.properties)
ifneq ($(filter-out 21,$(JDK_MAJOR)),)
  RUN_FLAGS += -XX:UserThreadWaitAttemptsAtExit=0 -XX:TrimNativeHeapInterval=1000
endif
# And for one entry point alone, NAME_FLAGS (scripts read them from build/java-flags-NAME):
#   -XX:+UseSerialGC (all but the server)                     one collector thread for a small heap
#   -Xms4m (node)                                             a node's live heap is about 2.5 MB
#   -XX:+UseG1GC -XX:G1HeapRegionSize=1m -XX:GCTimeRatio=4 -XX:MaxGCPauseMillis=20 (server)
#                                                             collects what dies old, so the heap follows the live set
#   -XX:TieredStopAtLevel=1 (client, add-transaction, node)   C1 only: short commands and ten nodes never repay C2
#   -XX:CompileThresholdScaling=0.3 (node)                    compile sooner: a node's first burst leaves the interpreter
#   -Djdk.virtualThreadScheduler.parallelism=1 (node, JDK 24+) one carrier thread, as Node's one event loop
ExchangeServer_FLAGS := -XX:+UseG1GC -XX:G1HeapRegionSize=1m -XX:GCTimeRatio=4 -XX:MaxGCPauseMillis=20
ExchangeClient_FLAGS := -XX:+UseSerialGC -XX:TieredStopAtLevel=1
AddTransaction_FLAGS := -XX:+UseSerialGC -XX:TieredStopAtLevel=1
PeerNode_FLAGS       := -XX:+UseSerialGC -Xms4m -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.3
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
LINK_DELAY_MS ?= 0
NODE ?= node-1
WHAT ?= exchange

.PHONY: build startup-cache test run-server run-client demo bench run-node network stop-network hosts-network stop-hosts-network capture clean

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
	LINK_DELAY_MS=$(LINK_DELAY_MS) scripts/network.sh start $(N)

stop-network:
	scripts/network.sh stop

# N hosts on this machine (network namespaces, 198.18.0.1..N), one node each; needs root and ip.
hosts-network: build
	scripts/hosts-network.sh up $(N)

stop-hosts-network:
	scripts/hosts-network.sh down

# A loopback run of the exchange or of a network, captured for Wireshark: WHAT=exchange|network.
capture: build startup-cache
	scripts/capture.sh $(WHAT)

clean:
	rm -rf build
