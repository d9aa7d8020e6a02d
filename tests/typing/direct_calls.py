"""Direct calls of tasks, checked by mypy: a trailing "E:" comment gives the expected error."""

from flowlite import Registry, Task, task


@task
def paginate(text: str, page_size: int = 3000) -> list[str]:
    return [text[i : i + page_size] for i in range(0, len(text), page_size)]


@task(inputs=["document"], outputs="pages")
def split_pages(text: str) -> list[str]:
    return text.split("\f")


registry = Registry()


@registry.task(outputs=("language", "confidence"))
def detect(pages: list[str]) -> tuple[str, float]:
    return "en", 1.0


strip = task(inputs=["raw"], outputs="clean")(str.strip)

pages: list[str] = paginate("text")
more: list[str] = split_pages("a\fb")
language: tuple[str, float] = detect(["a"])
cleaned: str = strip("  x  ")
typed: Task[[str], list[str]] = split_pages

paginate(3)  # E: Argument 1 to "__call__" of "Task" has incompatible type "int"; expected "str"
paginate("text", size=10)  # E: Unexpected keyword argument "size" for "__call__" of "Task"
wrong: int = split_pages("a")  # E: Incompatible types in assignment (expression has type "list[str]", variable has type "int")
detect()  # E: Missing positional argument "pages" in call to "__call__" of "Task"
