# The Node.js face: the napi-rs addon in bindings/node, its tests (node --test,
# tsc, npm pack) and the demo in examples/node. Needs node >= 18 and npm from the machine;
# every npm package is installed into bindings/node/node_modules from package-lock.json.

DEMOS += demo-node
TESTS += test-node

NODE_DIR := $(ROOT)/bindings/node
NODE_GEN := $(ROOT)/target/node-gen
NODE_STAMP := $(NODE_DIR)/node_modules/.docdb-installed

.PHONY: node-deps node-build node-regen

# Reinstalled only when package.json or the lockfile changes.
$(NODE_STAMP): $(NODE_DIR)/package.json $(wildcard $(NODE_DIR)/package-lock.json)
	cd $(NODE_DIR) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
		else npm install --no-audit --no-fund; fi
	touch $@

node-deps: $(NODE_STAMP)

# Builds the addon into target/node-gen, checks that the committed loader (index.js) and
# declarations (index.d.ts) equal the freshly generated ones, then installs the .node file
# next to them.
node-build: node-deps
	rm -rf $(NODE_GEN)
	cd $(NODE_DIR) && npx napi build --platform --release --strip -o $(NODE_GEN)
	@for f in index.js index.d.ts; do \
		cmp -s $(NODE_GEN)/$$f $(NODE_DIR)/$$f || { \
			diff -u $(NODE_DIR)/$$f $(NODE_GEN)/$$f | head -40; \
			echo "bindings/node/$$f is out of date: run 'make node-regen' and commit it"; \
			exit 1; }; \
	done
	cp $(NODE_GEN)/*.node $(NODE_DIR)/

# Rewrites the committed index.js / index.d.ts after a change of the Rust API.
node-regen: node-deps
	rm -rf $(NODE_GEN)
	cd $(NODE_DIR) && npx napi build --platform --release --strip -o $(NODE_GEN)
	cp $(NODE_GEN)/index.js $(NODE_GEN)/index.d.ts $(NODE_GEN)/*.node $(NODE_DIR)/

# __test__/remote.test.js runs target/release/docdb serve (the `cli` target).
test-node: node-build cli
	cd $(NODE_DIR) && node --test __test__/*.test.js

demo-node: node-build
	rm -rf $(ROOT)/target/demo-node
	node $(ROOT)/examples/node/notes.js $(ROOT)/target/demo-node
	node $(ROOT)/examples/node/notes.js $(ROOT)/target/demo-node
