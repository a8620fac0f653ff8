#!/usr/bin/env python3
"""tests/deb/guide.py - docs/operations.md as the script of make check-deb.

Every shell block of the guide (a fence opened with ```sh) carries a
marker on the line just before it, an HTML comment that Markdown does
not show:

  <!-- check-deb: run NAME -->          make check-deb runs it (NAME:
                                        [a-z0-9-]+, unique), in the
                                        guide's order
  <!-- check-deb: not run: REASON -->   deliberately left out, and why

Every other fence names what it holds (```text for output and
drawings, ```ini or ```conf for a file's lines, ```systemd for a unit),
so that no shell block hides as an unmarked one.

  guide.py check FILE        make lint: fails (exit 1), naming the line,
                             on an sh block without a marker, a marker
                             not followed by an sh block, a fence without
                             a language, a bad or repeated NAME
  guide.py extract FILE DIR  make check-deb: DIR/NAME.sh for each block
                             to run, and DIR/order (the names in order)
"""
import os
import re
import sys

RUN = re.compile(r'^<!-- check-deb: run ([a-z0-9-]+) -->$')
SKIP = re.compile(r'^<!-- check-deb: not run: \S.* -->$')
ANY_MARK = re.compile(r'^<!--\s*check-deb')
LANGS = {'sh', 'text', 'ini', 'conf', 'systemd'}


def parse(path):
    """The blocks as (line, lang, marker, name, text); the problems."""
    lines = open(path, encoding='utf-8').read().split('\n')
    blocks, problems = [], []
    names = set()
    pending = None          # (line number, 'run'/'skip', name)
    i = 0
    while i < len(lines):
        line = lines[i]
        n = i + 1
        if ANY_MARK.match(line):
            if pending is not None:
                problems.append(f'{path}:{pending[0]}: marker not followed by a ```sh block')
            m = RUN.match(line)
            if m:
                pending = (n, 'run', m.group(1))
            elif SKIP.match(line):
                pending = (n, 'skip', None)
            else:
                problems.append(f'{path}:{n}: malformed marker (want "<!-- check-deb: run NAME -->" '
                                'or "<!-- check-deb: not run: REASON -->")')
                pending = None
            i += 1
            continue
        if line.startswith('```'):
            lang = line[3:].strip()
            end = i + 1
            while end < len(lines) and lines[end].strip() != '```':
                end += 1
            if end == len(lines):
                problems.append(f'{path}:{n}: fence never closed')
                break
            body = '\n'.join(lines[i + 1:end]) + '\n'
            if lang not in LANGS:
                problems.append(f'{path}:{n}: a fence must name its language, one of '
                                f'{", ".join(sorted(LANGS))} (got "{lang}")')
            marker = pending if pending is not None and pending[0] == n - 1 else None
            if pending is not None and marker is None:
                problems.append(f'{path}:{pending[0]}: marker not directly before a ```sh block')
            pending = None
            if lang == 'sh' and marker is None:
                problems.append(f'{path}:{n}: ```sh block without a marker: put '
                                '"<!-- check-deb: run NAME -->" or "<!-- check-deb: not run: REASON -->" '
                                'on the line before it')
            if marker is not None and lang != 'sh':
                problems.append(f'{path}:{marker[0]}: marker before a ```{lang} block, not ```sh')
            name = marker[2] if marker is not None else None
            if name is not None:
                if name in names:
                    problems.append(f'{path}:{marker[0]}: block name "{name}" used twice')
                names.add(name)
            blocks.append((n, lang, marker[1] if marker else None, name, body))
            i = end + 1
            continue
        if pending is not None and line.strip() != '':
            problems.append(f'{path}:{pending[0]}: marker not directly before a ```sh block')
            pending = None
        i += 1
    if pending is not None:
        problems.append(f'{path}:{pending[0]}: marker at the end of the file')
    return blocks, problems


def main(argv):
    if len(argv) < 3 or argv[1] not in ('check', 'extract') or \
            (argv[1] == 'extract') != (len(argv) == 4):
        sys.stderr.write('usage: guide.py check FILE | guide.py extract FILE DIR\n')
        return 2
    blocks, problems = parse(argv[2])
    for p in problems:
        print(f'FAIL {p}')
    if problems:
        return 1
    run = [b for b in blocks if b[2] == 'run']
    if argv[1] == 'check':
        sh = [b for b in blocks if b[1] == 'sh']
        print(f'ok   {argv[2]}: {len(sh)} shell blocks, {len(run)} run by make check-deb, '
              f'{len(sh) - len(run)} marked not run')
        return 0
    out = argv[3]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'order'), 'w') as f:
        for (n, _, _, name, body) in run:
            with open(os.path.join(out, name + '.sh'), 'w') as g:
                g.write(f'# {argv[2]}:{n}: {name}\n' + body)
            f.write(f'{name} {n}\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
