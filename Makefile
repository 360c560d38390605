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

JDK := $(shell scripts/find-jdk.sh)
ifeq ($(JDK),)
  $(error no JDK >= 21 found; see the message above)
endif
JAVA  := $(JDK)/bin/java
JAVAC := $(JDK)/bin/javac

LIB        := lib
GSON_JAR   := $(LIB)/gson-$(GSON_VERSION).jar
JUNIT_JAR  := $(LIB)/junit-platform-console-standalone-$(JUNIT_VERSION).jar
ERRORPRONE_JAR := $(LIB)/error_prone_annotations-$(ERRORPRONE_VERSION).jar
CLASSES    := build/classes
TEST_CLASSES := build/test-classes
SOURCES      := $(shell find src -name '*.java')
RESOURCES    := $(shell find src -name '*.html')
TEST_SOURCES := $(shell find test -name '*.java')
RUN_CP       := $(CLASSES):$(GSON_JAR)
JAVA_RUN     := $(JAVA) -Djava.util.logging.config.file=src/logging.properties -cp $(RUN_CP)
JAVAC_FLAGS  := --release 21 -Xlint:all -Werror -encoding UTF-8

ARGS ?=
N ?= 3
NODE ?= node-1

.PHONY: build test run-server run-client demo bench run-node network stop-network hosts-network stop-hosts-network clean

build: $(CLASSES)/.built

$(GSON_JAR):
	mkdir -p $(LIB)
	mvn -q -B dependency:copy -Dartifact=com.google.code.gson:gson:$(GSON_VERSION) -DoutputDirectory=$(LIB)

$(ERRORPRONE_JAR):
	mkdir -p $(LIB)
	mvn -q -B dependency:copy -Dartifact=com.google.errorprone:error_prone_annotations:$(ERRORPRONE_VERSION) -DoutputDirectory=$(LIB)

$(JUNIT_JAR):
	mkdir -p $(LIB)
	mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$(JUNIT_VERSION) -DoutputDirectory=$(LIB)

$(CLASSES)/.built: $(SOURCES) $(RESOURCES) $(GSON_JAR) $(ERRORPRONE_JAR)
	rm -rf $(CLASSES) && mkdir -p $(CLASSES)
	$(JAVAC) $(JAVAC_FLAGS) -cp $(GSON_JAR):$(ERRORPRONE_JAR) -d $(CLASSES) $(SOURCES)
	cd src && cp --parents $(RESOURCES:src/%=%) ../$(CLASSES)/
	echo "$(abspath $(CLASSES)):$(abspath $(GSON_JAR))" > build/classpath
	touch $@

$(TEST_CLASSES)/.built: $(CLASSES)/.built $(TEST_SOURCES) $(JUNIT_JAR)
	rm -rf $(TEST_CLASSES) && mkdir -p $(TEST_CLASSES)
	$(JAVAC) $(JAVAC_FLAGS) -cp $(RUN_CP):$(ERRORPRONE_JAR):$(JUNIT_JAR) -d $(TEST_CLASSES) $(TEST_SOURCES)
	touch $@

# Runs every test; logs go to build/test.log. The last line is the summary CI reads.
test: $(TEST_CLASSES)/.built
	@rm -f build/test.log
	@$(JAVA) -Djava.util.logging.config.file=test/logging.properties -jar $(JUNIT_JAR) execute \
	    --disable-banner --disable-ansi-colors --details=tree --class-path $(RUN_CP):$(TEST_CLASSES) \
	    --scan-class-path $(TEST_CLASSES) 2>&1 | tee build/test-output.txt; status=$$?; \
	  if [ $$status -ne 0 ] && [ -f build/test.log ]; then echo "--- last lines of build/test.log"; tail -n 60 build/test.log; fi; \
	  awk '/tests successful/ {gsub(/[][]/, ""); passed = $$1} \
	       /tests failed|containers failed/ {gsub(/[][]/, ""); failed += $$1} \
	       END {printf "tests: %d passed, %d failed\n", passed, failed}' build/test-output.txt; \
	  exit $$status

run-server: build
	$(JAVA_RUN) wirelab.exchange.ExchangeServer $(ARGS)

run-client: build
	$(JAVA_RUN) wirelab.exchange.ExchangeClient $(ARGS)

demo: build
	scripts/demo.sh

bench: $(TEST_CLASSES)/.built
	$(JAVA) -Xmx4g -Djava.util.logging.config.file=test/wirelab/bench/logging.properties -cp $(RUN_CP):$(TEST_CLASSES) wirelab.bench.Bench $(ARGS)

run-node: build
	scripts/run-node.sh $(NODE) $(ARGS)

network: build
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
