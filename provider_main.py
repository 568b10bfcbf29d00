"""Entry point of the multi-language component package declared in PulumiPlugin.yaml."""

from components.provider import main

if __name__ == "__main__":
    main()
