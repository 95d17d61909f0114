#!/usr/bin/python3
"""The reference for the filter benchmark: the shape of the SynthCheX-75K authors' filtering loop (one image at a
time: read, base64, ask, read the reply), over the same OpenAI-compatible API that chexgen uses, with the standard
library's HTTP client. It asks each image with its own prompt (the authors' script sends the previous row's).
    /usr/bin/python3 bench/filter_reference.py PROMPTS.csv BASE_URL OUT.csv
"""
import base64
import csv
import json
import os
import sys
import urllib.request

META_PROMPT = ("You are an expert radiologist and medical annotator. Your task is to assess the quality of an image "
               "given its description and classify the image as either 'High Quality', 'Medium Quality', or 'Low "
               "Quality'. Keep your responses limited to only these three options. If the image is not relevant to "
               "the description, respond with 'Not Relevant'.")


def main():
    manifest, base_url, out_path = sys.argv[1:4]
    root = os.path.dirname(os.path.abspath(manifest))
    rows = list(csv.DictReader(open(manifest, newline="")))
    graded = []
    for row in rows:
        with open(os.path.join(root, row["img_savename"]), "rb") as f:
            image = base64.b64encode(f.read()).decode()
        question = (f"Given the prompt {row['prompt']}, classify the following image as 'High Quality', "
                    "'Medium Quality', or 'Low Quality'")
        body = {"model": "stub", "temperature": 0, "max_tokens": 32, "messages": [
            {"role": "system", "content": META_PROMPT},
            {"role": "user", "content": [{"type": "text", "text": question},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64," + image}}]}]}
        request = urllib.request.Request(base_url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as reply:
            content = json.load(reply)["choices"][0]["message"]["content"]
        graded.append((row["img_savename"], row["prompt"], content.strip()))
    with open(out_path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["img_savename", "prompt", "quality"])
        writer.writerows(graded)


if __name__ == "__main__":
    main()
