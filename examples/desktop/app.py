"""The desktop example's application: a small Tk form. A "Subscribe" button and an e-mail field; pressing
Enter in the field submits it. Its state goes to the JSON file named on the command line, so the example
(and its test) can tell whether the agent finished the task."""

from __future__ import annotations

import json
import os
import sys
import tkinter as tk

STATE = sys.argv[1] if len(sys.argv) > 1 else "form.json"
state = {"subscribed": False, "email": None}


def save() -> None:
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(STATE + ".tmp", STATE)


root = tk.Tk()
root.title("Newsletter")
root.geometry("420x220+40+40")
root.configure(background="#f4f4f4")
tk.Label(root, text="Newsletter sign-up", background="#f4f4f4", font=("TkDefaultFont", 14)).place(x=20, y=12)
button = tk.Button(root, text="Subscribe", background="#2060c0", foreground="white")
button.place(x=20, y=50, width=160, height=44)
tk.Label(root, text="E-mail:", background="#f4f4f4").place(x=20, y=114)
entry = tk.Entry(root)
entry.place(x=90, y=110, width=300, height=30)
status = tk.Label(root, text="not subscribed", background="#f4f4f4")
status.place(x=20, y=160, width=380, height=30)


def subscribe() -> None:
    state["subscribed"] = True
    button.configure(text="Subscribed", background="#20a040")
    save()


def submit(_event: object) -> None:
    state["email"] = entry.get()
    status.configure(text=f"sent to {state['email']}" if state["subscribed"] else "press Subscribe first")
    save()


button.configure(command=subscribe)
entry.bind("<Return>", submit)
save()
root.mainloop()
