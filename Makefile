# Convenience targets; the logic lives in ./run (the README's two commands).
.PHONY: demo test bench clean
demo:
	./run demo
test:
	./run test
bench:
	./run bench
clean:
	rm -rf .venv build *.egg-info
