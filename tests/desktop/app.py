"""A small Tk application for the desktop tests (runs inside the sandbox with the system python3).

A window at a fixed place (no window manager needed): a red button and an entry field. Clicking the
button turns it green; pressing Enter in the field shows "hello <text>" in a label and in the window
title. Every mouse button press anywhere in the window (clicks, wheel clicks) is recorded with the
modifier keys held during it (``presses``: ``[button, ["shift", ...]]``). Every change is also written
to ``state.json`` in the working directory, so tests assert on the application's state and on pixels,
never on a model's words.
"""

import json
import sys
import tkinter as tk

STATE = sys.argv[1] if len(sys.argv) > 1 else "state.json"
state = {"clicks": 0, "submitted": None, "ready": True, "presses": []}
MODIFIERS = ((0x1, "shift"), (0x4, "ctrl"), (0x8, "alt"))


def save():
    with open(STATE + ".tmp", "w") as fh:
        json.dump(state, fh)
    import os

    os.replace(STATE + ".tmp", STATE)


root = tk.Tk()
root.title("agentcore test app")
root.geometry("400x240+40+40")
root.configure(background="#ffffff")
button = tk.Button(
    root, text="Press me", background="#d00000", activebackground="#d00000", width=20, height=3
)
button.place(x=20, y=20, width=200, height=60)
entry = tk.Entry(root, width=30)
entry.place(x=20, y=110, width=300, height=30)
label = tk.Label(root, text="", background="#ffffff")
label.place(x=20, y=160, width=300, height=30)


def on_click():
    state["clicks"] += 1
    button.configure(background="#00c000", activebackground="#00c000")
    entry.focus_set()
    save()


def on_enter(_event):
    text = entry.get()
    state["submitted"] = text
    label.configure(text=f"hello {text}")
    root.title(f"hello {text}")
    save()


def on_press(event):
    held = [name for bit, name in MODIFIERS if event.state & bit]
    state["presses"].append([event.num, held])
    save()


button.configure(command=on_click)
root.bind("<ButtonPress>", on_press)
entry.bind("<Return>", on_enter)
root.after(50, save)
root.mainloop()
