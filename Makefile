# Conveniences around scripts/ (which need only Python 3.11+ and bash): `make demo`, `make test`.
.PHONY: demo test setup makemessages stop clean bench
BIN := .venv/bin

demo:
	./scripts/demo

test:
	./scripts/test $(PYTEST_ARGS)

setup:
	bash -c 'source scripts/_env.sh && setup'

makemessages: setup
	$(BIN)/python manage.py makemessages -l en -l pt_BR -l es --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*' --ignore='node_modules/*' --no-obsolete

bench: setup
	$(BIN)/python bench/tenant_provisioning.py

stop:
	$(BIN)/python -m incentiva.embedded stop

clean: stop
	rm -rf .incentiva staticfiles
